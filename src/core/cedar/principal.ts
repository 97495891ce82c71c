/**
 * The principal mapping: a {@link TenantPrincipal} as the entities a Verified Permissions
 * Cognito identity source builds from the same token, in both Cedar's JSON entity format and
 * the service's `entityList` / `contextMap` format. Pure data: no Cedar, no AWS SDK.
 *
 * - principal `<ns>::User::"<userPoolId>|<sub>"`;
 * - one parent `<ns>::UserGroup::"<userPoolId>|<group>"` per `cognito:groups` entry;
 * - ID token: every other claim is a principal attribute (`principal["cognito:username"]`);
 * - access token: the principal has no attributes; the claims other than `cognito:groups` go to
 *   `context.token` (`scope` split into a set), as the service does;
 * - optional (`tenantEntityType`): a `<ns>::Tenant::"<tenantId>"` entity per tenant, parent of the
 *   groups that grant it, and `context.tenant`, the active tenant.
 *
 * Claim values follow the value rule of ./values.ts; a claim Cedar cannot represent is `token_invalid`.
 */
import { TenantAuthError } from "../errors.js";
import type { TenantPrincipal } from "../principal.js";
import type { CedarEntity, CedarEntityUid, CedarValue } from "./values.js";
import { qualifyType, setOwn, toCedarValue } from "./values.js";
import type { VpAttributeValue, VpEntityIdentifier, VpEntityItem } from "./wire.js";
import { toAttributeRecord, toEntityIdentifier, toEntityList } from "./wire.js";

/** Options of {@link toCedarEntities}. */
export interface CedarMappingOptions {
  /** The schema namespace, e.g. `"TenancyDemo"`; `""` for none. */
  readonly namespace: string;
  /** The identity source's principal entity type; default `"User"`. */
  readonly userEntityType?: string;
  /** The identity source's group entity type; default `"UserGroup"`. */
  readonly groupEntityType?: string;
  /**
   * Model tenants as entities of this type (e.g. `"Tenant"`): each tenant of the caller becomes
   * an entity, parent of the groups that grant it (so `principal in Tenant::"acme"` holds), and
   * the active tenant is passed as `context.tenant`. Off by default: the service's own mapping has no tenants.
   */
  readonly tenantEntityType?: string;
}

/** What {@link toCedarEntities} returns: the same data in both formats. */
export interface CedarEntityMapping {
  /** The principal's uid, Cedar JSON format. */
  readonly principal: CedarEntityUid;
  /** Principal, groups (and tenants), Cedar JSON entity format. */
  readonly entities: readonly CedarEntity[];
  /** Context from the token (`token` for access tokens, `tenant` with `tenantEntityType`), Cedar JSON. */
  readonly context: Readonly<Record<string, CedarValue>>;
  /** The principal as a Verified Permissions `EntityIdentifier`. */
  readonly principalIdentifier: VpEntityIdentifier;
  /** `entities` in the service's `entityList` format. */
  readonly entityList: readonly VpEntityItem[];
  /** `context` in the service's `contextMap` format. */
  readonly contextMap: Readonly<Record<string, VpAttributeValue>>;
}

/** Claims the mapping never turns into attributes: groups become parents instead. */
const GROUPS_CLAIM = "cognito:groups";

/** The principal's uid: `<ns>::User::"<userPoolId>|<sub>"`. */
export function principalToUid(principal: Pick<TenantPrincipal, "userPoolId" | "sub">, options: CedarMappingOptions): CedarEntityUid {
  return { type: qualifyType(options.namespace, options.userEntityType ?? "User"), id: `${principal.userPoolId}|${principal.sub}` };
}

/**
 * A verified claim as a Cedar value. A claim Cedar cannot represent (a fraction, `null`, ...) is
 * `token_invalid`, not left out: the token is genuine, but the decision would silently ignore part
 * of it, and a policy that tests the claim (`principal has x && ...`) would be skipped. A
 * `TypeError` would blame the caller, who did not write the token.
 */
function claimValue(name: string, value: unknown): CedarValue | undefined {
  try {
    return toCedarValue(value, `the ${name} claim`);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new TenantAuthError("token_invalid", `The ${name} claim cannot be represented in Cedar`, { cause: err });
  }
}

/**
 * Verified Permissions reads `cognito:`-prefixed claims (`cognito:username`, `cognito:groups`) as
 * members of a `cognito` record (`principal.cognito.username` in its policies), so a token that
 * also has a claim named exactly `cognito` maps two values to one name; the service refuses such
 * a token when it maps it. This mapping refuses it too, at the same point (authorization), so the
 * local engine, the emulator and the service answer alike, while apps that only resolve tenants
 * keep accepting the token Cognito signed.
 */
function checkCognitoNamespace(claims: Readonly<Record<string, unknown>>): void {
  if (!Object.hasOwn(claims, "cognito")) return;
  if (Object.keys(claims).some((k) => k.startsWith("cognito:"))) {
    throw new TenantAuthError("token_invalid", "A cognito claim beside cognito: claims cannot be mapped");
  }
}

/**
 * Build the entities and context a Verified Permissions Cognito identity source would build from
 * the principal's token, in Cedar JSON and in the service's format.
 *
 * @example
 * ```ts
 * const { principal: uid, entities, context } = toCedarEntities(principal, { namespace: "TenancyDemo" });
 * // uid: { type: "TenancyDemo::User", id: "us-east-1_AbC123|<sub>" }
 * ```
 */
export function toCedarEntities(principal: TenantPrincipal, options: CedarMappingOptions): CedarEntityMapping {
  const ns = options.namespace;
  const uid = principalToUid(principal, options);
  const groupType = qualifyType(ns, options.groupEntityType ?? "UserGroup");
  const groupUid = (g: string): CedarEntityUid => ({ type: groupType, id: `${principal.userPoolId}|${g}` });

  const tenantParents = new Map<string, CedarEntityUid[]>();
  const tenantEntities: CedarEntity[] = [];
  let tenantType: string | undefined;
  if (options.tenantEntityType !== undefined) {
    tenantType = qualifyType(ns, options.tenantEntityType);
    for (const m of principal.tenants) {
      const tUid = { type: tenantType, id: m.tenantId };
      tenantEntities.push({ uid: tUid, attrs: {}, parents: [] });
      for (const g of m.groups) {
        const list = tenantParents.get(g) ?? [];
        list.push(tUid);
        tenantParents.set(g, list);
      }
    }
  }

  const groups = [...new Set(principal.groups)];
  const groupEntities: CedarEntity[] = groups.map((g) => ({ uid: groupUid(g), attrs: {}, parents: tenantParents.get(g) ?? [] }));

  checkCognitoNamespace(principal.claims);
  const attrs: Record<string, CedarValue> = {};
  const context: Record<string, CedarValue> = {};
  if (principal.tokenUse === "id") {
    for (const [k, v] of Object.entries(principal.claims)) {
      if (k === GROUPS_CLAIM) continue;
      const c = claimValue(k, v);
      if (c !== undefined) setOwn(attrs, k, c);
    }
  } else {
    const token: Record<string, CedarValue> = {};
    for (const [k, v] of Object.entries(principal.claims)) {
      if (k === GROUPS_CLAIM) continue;
      const c = k === "scope" && typeof v === "string" ? v.split(" ").filter((s) => s.length > 0) : claimValue(k, v);
      if (c !== undefined) setOwn(token, k, c);
    }
    context["token"] = token;
  }
  if (tenantType !== undefined && principal.tenantId !== undefined) {
    context["tenant"] = { __entity: { type: tenantType, id: principal.tenantId } };
  }

  const principalEntity: CedarEntity = { uid, attrs, parents: groups.map(groupUid) };
  const entities = [principalEntity, ...groupEntities, ...tenantEntities];
  return {
    principal: uid,
    entities,
    context,
    principalIdentifier: toEntityIdentifier(uid),
    entityList: toEntityList(entities),
    contextMap: toAttributeRecord(context),
  };
}

/**
 * The context keys the mapping derives from the verified token: `token` (the access token's
 * claims; an ID token has none, and a caller's `token` would pass for one) and, with
 * `tenantEntityType`, `tenant` (the active tenant; none when no tenant is active).
 */
export function reservedContextKeys(options: Pick<CedarMappingOptions, "tenantEntityType">): readonly string[] {
  return options.tenantEntityType !== undefined ? ["token", "tenant"] : ["token"];
}
