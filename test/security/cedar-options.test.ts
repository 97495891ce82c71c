/**
 * createCedarAuthorizer's options go through the shared validator: a misspelt option (whose check
 * would otherwise be silently off, e.g. tenantEntityTypes: no tenant confinement at all) or a value
 * of the wrong type is a TypeError at setup, naming the option.
 */
import { describe, expect, it } from "vitest";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import type { CedarAuthorizerOptions } from "../../src/authorizers/cedar.js";

const POLICIES = "permit (principal, action, resource);";
const make = (extra: Record<string, unknown>) => () => createCedarAuthorizer({ namespace: "Sec", policies: POLICIES, ...extra } as CedarAuthorizerOptions);

describe("createCedarAuthorizer options", () => {
  it("an unknown key is refused, with did-you-mean", () => {
    expect(make({ tenantEntityTypes: "Tenant" })).toThrow(/createCedarAuthorizer: unknown option tenantEntityTypes \(did you mean tenantEntityType\?\)/);
    expect(make({ allowWithError: true })).toThrow(/did you mean allowWithErrors\?/);
    expect(make({ entites: [] })).toThrow(/did you mean entities\?/);
    expect(make({ cache: { maxEntries: 10 } })).toThrow(TypeError);
  });

  it("values of the wrong type are refused, naming the option", () => {
    expect(() => createCedarAuthorizer({ policies: POLICIES } as unknown as CedarAuthorizerOptions)).toThrow(/createCedarAuthorizer: namespace is required/);
    expect(() => createCedarAuthorizer({ namespace: "Sec" } as unknown as CedarAuthorizerOptions)).toThrow(/createCedarAuthorizer: policies is required/);
    expect(make({ namespace: 1 })).toThrow(/namespace must be a string/);
    expect(make({ policies: ["permit (principal, action, resource);"] })).toThrow(/policies must be Cedar policy text/);
    expect(make({ policies: { a: 1 } })).toThrow(/policies must be Cedar policy text/);
    expect(make({ schema: 3 })).toThrow(/schema must be Cedar schema text/);
    expect(make({ tenantEntityType: "" })).toThrow(/tenantEntityType must be a non-empty string/);
    expect(make({ userEntityType: 1 })).toThrow(/userEntityType must be a non-empty string/);
    expect(make({ validatePolicies: "false" })).toThrow(/validatePolicies must be true or false/);
    expect(make({ allowWithErrors: "yes" })).toThrow(/allowWithErrors must be true or false/);
    expect(make({ entities: {} })).toThrow(/entities must be an array/);
    expect(() => createCedarAuthorizer(null as unknown as CedarAuthorizerOptions)).toThrow(/createCedarAuthorizer: options must be an object/);
  });

  it("valid options pass", async () => {
    const a = createCedarAuthorizer({ namespace: "", policies: { p: POLICIES }, tenantEntityType: "Tenant", validatePolicies: false, allowWithErrors: false, entities: [] });
    await a.ready();
    expect(a.policyIds).toEqual(["p"]);
  });
});
