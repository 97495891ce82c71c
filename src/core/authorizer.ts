import type { TenantPrincipal } from "./principal.js";

/** An action id (`"ReadObject"` means `<namespace>::Action::"ReadObject"`) or a typed reference. */
export type ActionRef = string | { readonly type: string; readonly id: string };

/**
 * The resource a request acts on. `type` is relative to the namespace (`"Object"` means
 * `<namespace>::Object`). With attributes or parents it is sent as an entity too, so policies
 * can read `resource.bucket`.
 */
export interface ResourceRef {
  /** Entity type relative to the namespace: `"Object"` means `<namespace>::Object`. */
  readonly type: string;
  /** Entity id, e.g. `"acme-assets/report.pdf"`. */
  readonly id: string;
  /**
   * Attributes policies may read as `resource.<name>`: plain JSON values Cedar can represent
   * (strings, booleans, 64-bit integers, arrays, plain objects, `{ __entity }`, `{ __extn }`).
   * Anything else (`1.5`, `null`, a Date) is refused, never left out.
   */
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** Parent entities, for `resource in <Type>::"<id>"` (e.g. the bucket, the tenant). */
  readonly parents?: readonly { readonly type: string; readonly id: string }[];
}

/** One question for a policy engine: may this principal do this action on this resource? */
export interface AuthorizationRequest {
  /** Who asks: the principal `resolveTenant` returned. */
  readonly principal: TenantPrincipal;
  /** What they want to do. */
  readonly action: ActionRef;
  /** What they want to do it to. */
  readonly resource: ResourceRef;
  /**
   * Extra context for policies (`context.*`), values as for resource attributes. The keys the
   * library derives from the verified token (`token`, and `tenant` with `tenantEntityType`) are its
   * own: a value given here for them is ignored.
   */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * Extra entities (Cedar JSON entity format) the policies need. One that describes an entity the
   * request already has (a group or tenant from the token, a static entity, the resource) is merged
   * with it (parents and attributes united; one attribute with two values is refused); one with the
   * principal's uid is ignored: the principal comes only from the verified token.
   */
  readonly entities?: readonly unknown[];
  /**
   * The raw JWT the principal was resolved from. Only the Verified Permissions authorizer in
   * `mode: "withToken"` reads it (it sends the token itself); every other authorizer ignores it.
   * The principal never holds the token, so the caller passes it here.
   */
  readonly token?: string;
}

/**
 * The engine's answer. `allowed` and `decision` say the same thing twice (read either): the type
 * holds them together, `allowed: true` only with `decision: "ALLOW"`, so narrowing on one narrows
 * the other and a decision that has one without the other cannot be built.
 */
export type Decision = (
  | {
      /** `true` only for an explicit ALLOW. */
      readonly allowed: true;
      /** The engine's verdict. */
      readonly decision: "ALLOW";
    }
  | {
      /** `false` for a DENY. */
      readonly allowed: false;
      /** The engine's verdict; anything it could not decide is a DENY or an error, never an ALLOW. */
      readonly decision: "DENY";
    }
) & {
  /** Ids of the policies that decided. */
  readonly determiningPolicies: readonly string[];
  /** Evaluation errors the engine reported (a policy that errored does not allow). */
  readonly errors: readonly string[];
};

/**
 * A policy engine: Verified Permissions (`cognito-tenancy/verified-permissions`) or local Cedar
 * (`cognito-tenancy/cedar`). Implementations must deny, never allow, when they cannot decide:
 * they reject with `authorizer_unavailable` (503).
 */
export interface Authorizer {
  /** Decide one request. Rejects with `authorizer_unavailable` (503) when no decision can be had. */
  isAuthorized(request: AuthorizationRequest): Promise<Decision>;
}
