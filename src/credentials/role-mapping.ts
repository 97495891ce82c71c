/**
 * The role an Amazon Cognito identity pool gives an authenticated user, as the service documents
 * it, as a pure function: what `GetCredentialsForIdentity` will answer, without calling it.
 */

/** One rule of a `Rules` role mapping (the identity pool's `MappingRule`). */
export interface IdentityPoolMappingRule {
  /** The claim to test, e.g. `"cognito:groups"` or `"custom:tier"`. */
  readonly Claim: string;
  /** How the claim must match `Value`. */
  readonly MatchType: "Equals" | "Contains" | "StartsWith" | "NotEqual";
  /** The string the claim is tested against. */
  readonly Value: string;
  /** The role a match selects. */
  readonly RoleARN: string;
}

/** An identity pool role mapping for one provider (the service's `RoleMapping`). */
export interface IdentityPoolRoleMapping {
  /** `Token`: `cognito:roles` / `cognito:preferred_role`; `Rules`: the first matching rule. */
  readonly Type: "Token" | "Rules";
  /** What happens when nothing decides: the pool's authenticated role, or no credentials. */
  readonly AmbiguousRoleResolution?: "AuthenticatedRole" | "Deny";
  /** The rules of a `Rules` mapping, evaluated in order (at most 25). */
  readonly RulesConfiguration?: { readonly Rules: readonly IdentityPoolMappingRule[] };
}

/** What {@link explainIdentityPoolRole} needs besides the claims. */
export interface ExplainRoleOptions {
  /** The provider's role mapping; without one the pool's authenticated role applies. */
  readonly roleMapping?: IdentityPoolRoleMapping;
  /** The pool's default authenticated role (`Roles.authenticated`). */
  readonly authenticatedRole?: string;
  /** The `CustomRoleArn` sent with `GetCredentialsForIdentity`. */
  readonly customRoleArn?: string;
}

/** The identity pool's choice, and why. */
export type IdentityPoolRoleChoice =
  | {
      readonly role: string;
      /** Which step of the documented order chose the role. */
      readonly source: "customRoleArn" | "preferredRole" | "onlyRole" | "rule" | "authenticatedRole";
      /** The index of the rule that matched (`source: "rule"`). */
      readonly ruleIndex?: number;
    }
  | {
      readonly role: undefined;
      /** `deny`: AmbiguousRoleResolution is Deny; `noAuthenticatedRole`: it points at a role the pool does not have. */
      readonly source: "deny" | "noAuthenticatedRole";
    };

function stringList(value: unknown): readonly string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((v): v is string => typeof v === "string");
}

// A claim Cognito put in the token as a list (cognito:groups, cognito:roles) is matched element by
// element: the rule holds when one element satisfies it (NotEqual: when none equals the value).
// A claim that is absent never matches, NotEqual included: the rule names a claim that "must be
// present in the token".
function ruleMatches(rule: IdentityPoolMappingRule, claims: Readonly<Record<string, unknown>>): boolean {
  const raw = claims[rule.Claim];
  if (raw === undefined || raw === null) return false;
  const values = stringList(raw) ?? [typeof raw === "string" ? raw : JSON.stringify(raw)];
  switch (rule.MatchType) {
    case "Equals":
      return values.some((v) => v === rule.Value);
    case "Contains":
      return values.some((v) => v.includes(rule.Value));
    case "StartsWith":
      return values.some((v) => v.startsWith(rule.Value));
    case "NotEqual":
      return values.length > 0 && values.every((v) => v !== rule.Value);
    default:
      return false;
  }
}

/**
 * Which role an identity pool assigns for these ID token claims, following the order the Cognito
 * developer guide gives:
 *
 * - no role mapping: the pool's authenticated role;
 * - `Token`: `CustomRoleArn` when the token's `cognito:roles` holds it, else
 *   `cognito:preferred_role`, else the only role of `cognito:roles`, else `AmbiguousRoleResolution`;
 * - `Rules`: the first rule (in order) whose claim matches, else `AmbiguousRoleResolution`
 *   (`CustomRoleArn` plays no part).
 *
 * `AmbiguousRoleResolution: "AuthenticatedRole"` falls back to the pool's authenticated role,
 * `"Deny"` (or none given) gives no credentials. The testing kit's identity pool emulator answers
 * with exactly this function.
 */
export function explainIdentityPoolRole(claims: Readonly<Record<string, unknown>>, options: ExplainRoleOptions = {}): IdentityPoolRoleChoice {
  const mapping = options.roleMapping;
  const fallback = (): IdentityPoolRoleChoice => {
    if (mapping && mapping.AmbiguousRoleResolution !== "AuthenticatedRole") return { role: undefined, source: "deny" };
    return options.authenticatedRole ? { role: options.authenticatedRole, source: "authenticatedRole" } : { role: undefined, source: "noAuthenticatedRole" };
  };
  if (!mapping) return fallback();
  if (mapping.Type === "Token") {
    const roles = stringList(claims["cognito:roles"]) ?? [];
    if (options.customRoleArn !== undefined && roles.includes(options.customRoleArn)) return { role: options.customRoleArn, source: "customRoleArn" };
    const preferred = claims["cognito:preferred_role"];
    if (typeof preferred === "string" && preferred !== "") return { role: preferred, source: "preferredRole" };
    if (roles.length === 1) return { role: roles[0]!, source: "onlyRole" };
    return fallback();
  }
  const rules = mapping.RulesConfiguration?.Rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (ruleMatches(rule, claims)) return { role: rule.RoleARN, source: "rule", ruleIndex: i };
  }
  return fallback();
}
