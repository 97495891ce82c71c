// explainIdentityPoolRole: the identity pool's documented role choice, as a table.
import { describe, expect, it } from "vitest";
import { explainIdentityPoolRole } from "../../src/credentials/index.js";
import type { ExplainRoleOptions, IdentityPoolMappingRule } from "../../src/credentials/index.js";
import { ROLE } from "../support/credentials.js";

const AUTH = "arn:aws:iam::111122223333:role/authenticated";
const dave = { "cognito:groups": ["tenant:acme", "tenant:globex"], "cognito:roles": [ROLE.acme, ROLE.globex], "cognito:preferred_role": ROLE.acme };
const tied = { "cognito:groups": ["tenant:acme", "tenant:globex"], "cognito:roles": [ROLE.acme, ROLE.globex] };
const single = { "cognito:roles": [ROLE.initech] };
const none = { "cognito:groups": ["beta-testers"] };

const rule = (Claim: string, MatchType: IdentityPoolMappingRule["MatchType"], Value: string, RoleARN: string): IdentityPoolMappingRule => ({ Claim, MatchType, Value, RoleARN });
const token = (AmbiguousRoleResolution?: "AuthenticatedRole" | "Deny"): ExplainRoleOptions["roleMapping"] => ({ Type: "Token", ...(AmbiguousRoleResolution ? { AmbiguousRoleResolution } : {}) });
const rules = (list: IdentityPoolMappingRule[], AmbiguousRoleResolution: "AuthenticatedRole" | "Deny" = "Deny"): ExplainRoleOptions["roleMapping"] => ({
  Type: "Rules",
  AmbiguousRoleResolution,
  RulesConfiguration: { Rules: list },
});

const TABLE: [string, Record<string, unknown>, ExplainRoleOptions, string | undefined, string][] = [
  ["no mapping: the authenticated role", dave, { authenticatedRole: AUTH }, AUTH, "authenticatedRole"],
  ["no mapping, no authenticated role", dave, {}, undefined, "noAuthenticatedRole"],
  ["Token: CustomRoleArn in cognito:roles wins over the preferred role", dave, { roleMapping: token("Deny"), customRoleArn: ROLE.globex }, ROLE.globex, "customRoleArn"],
  ["Token: CustomRoleArn not in cognito:roles falls back to the preferred role (the hazard)", dave, { roleMapping: token("Deny"), customRoleArn: ROLE.initech }, ROLE.acme, "preferredRole"],
  ["Token: no CustomRoleArn, the preferred role", dave, { roleMapping: token("Deny") }, ROLE.acme, "preferredRole"],
  ["Token: no preferred role, several roles, Deny", tied, { roleMapping: token("Deny"), authenticatedRole: AUTH }, undefined, "deny"],
  ["Token: no preferred role, several roles, AuthenticatedRole", tied, { roleMapping: token("AuthenticatedRole"), authenticatedRole: AUTH }, AUTH, "authenticatedRole"],
  ["Token: no preferred role, several roles, CustomRoleArn picks one", tied, { roleMapping: token("Deny"), customRoleArn: ROLE.globex }, ROLE.globex, "customRoleArn"],
  ["Token: one role and no preferred role", single, { roleMapping: token("Deny") }, ROLE.initech, "onlyRole"],
  ["Token: no roles, AuthenticatedRole", none, { roleMapping: token("AuthenticatedRole"), authenticatedRole: AUTH }, AUTH, "authenticatedRole"],
  ["Token: no roles, no resolution given (Deny)", none, { roleMapping: token(), authenticatedRole: AUTH }, undefined, "deny"],
  ["Rules: Contains on cognito:groups matches a member", dave, { roleMapping: rules([rule("cognito:groups", "Contains", "tenant:globex", ROLE.globex)]) }, ROLE.globex, "rule"],
  ["Rules: Contains matches part of a value", dave, { roleMapping: rules([rule("cognito:groups", "Contains", "glob", ROLE.globex)]) }, ROLE.globex, "rule"],
  ["Rules: Equals on a list matches one element", dave, { roleMapping: rules([rule("cognito:groups", "Equals", "tenant:acme", ROLE.acme)]) }, ROLE.acme, "rule"],
  ["Rules: Equals needs the whole value", dave, { roleMapping: rules([rule("cognito:groups", "Equals", "tenant", ROLE.acme)]) }, undefined, "deny"],
  ["Rules: StartsWith", { "custom:tier": "gold-plus" }, { roleMapping: rules([rule("custom:tier", "StartsWith", "gold", ROLE.acme)]) }, ROLE.acme, "rule"],
  ["Rules: NotEqual", { "custom:tier": "silver" }, { roleMapping: rules([rule("custom:tier", "NotEqual", "gold", ROLE.acme)]) }, ROLE.acme, "rule"],
  ["Rules: NotEqual on an equal value", { "custom:tier": "gold" }, { roleMapping: rules([rule("custom:tier", "NotEqual", "gold", ROLE.acme)]) }, undefined, "deny"],
  ["Rules: NotEqual on an absent claim does not match", {}, { roleMapping: rules([rule("custom:tier", "NotEqual", "gold", ROLE.acme)]) }, undefined, "deny"],
  [
    "Rules: the first matching rule wins, in order",
    dave,
    { roleMapping: rules([rule("cognito:groups", "Contains", "tenant:globex", ROLE.globex), rule("cognito:groups", "Contains", "tenant:acme", ROLE.acme)]) },
    ROLE.globex,
    "rule",
  ],
  ["Rules: CustomRoleArn plays no part", dave, { roleMapping: rules([rule("cognito:groups", "Contains", "tenant:acme", ROLE.acme)]), customRoleArn: ROLE.globex }, ROLE.acme, "rule"],
  [
    "Rules: nothing matches, AuthenticatedRole",
    none,
    { roleMapping: rules([rule("cognito:groups", "Equals", "tenant:acme", ROLE.acme)], "AuthenticatedRole"), authenticatedRole: AUTH },
    AUTH,
    "authenticatedRole",
  ],
  ["Rules: nothing matches, Deny", none, { roleMapping: rules([rule("cognito:groups", "Equals", "tenant:acme", ROLE.acme)]), authenticatedRole: AUTH }, undefined, "deny"],
];

describe("explainIdentityPoolRole", () => {
  it.each(TABLE)("%s", (_label, claims, options, role, source) => {
    const choice = explainIdentityPoolRole(claims, options);
    expect(choice.role).toBe(role);
    expect(choice.source).toBe(source);
  });

  it("names the rule that matched", () => {
    const choice = explainIdentityPoolRole(dave, { roleMapping: rules([rule("custom:x", "Equals", "y", ROLE.initech), rule("cognito:groups", "Contains", "tenant:acme", ROLE.acme)]) });
    expect(choice).toEqual({ role: ROLE.acme, source: "rule", ruleIndex: 1 });
  });
});
