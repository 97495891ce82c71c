import { describe, expect, it } from "vitest";
import { checkOption, closestName, renameOptions, renamedTo, validateOptions } from "../../src/core/options.js";

const schema = {
  timeoutMs: { type: "number", min: 1, max: 60_000, integer: true },
  tolerance: { type: "number", min: 0, max: 300 },
  tenants: { type: "object" },
  requireTenant: { type: "boolean" },
  mode: { type: "oneOf", values: ["a", "b"] },
  name: { type: "string", nonEmpty: true, required: true },
} as const;

describe("validateOptions", () => {
  it("accepts what the schema allows, and left-out optional keys", () => {
    expect(() => validateOptions({ name: "x" }, schema, { where: "t" })).not.toThrow();
    expect(() => validateOptions({ name: "x", timeoutMs: 5, tolerance: 0.5, tenants: {}, requireTenant: false, mode: "b" }, schema, { where: "t" })).not.toThrow();
  });

  it.each([
    ["60", /t: tolerance must be a number from 0 to 300, got the string "60" \(a string, e.g. from process.env/],
    [Infinity, /got number Infinity/],
    [NaN, /got number NaN/],
    [-1, /from 0 to 300, got number -1/],
    [301, /got number 301/],
    [10n, /got bigint 10/],
    [null, /got null/],
  ])("refuses tolerance %s", (value, message) => {
    expect(() => validateOptions({ name: "x", tolerance: value }, schema, { where: "t" })).toThrow(message);
  });

  it("refuses a fraction where an integer is needed", () => {
    expect(() => validateOptions({ name: "x", timeoutMs: 1.5 }, schema, { where: "t" })).toThrow("t: timeoutMs must be an integer from 1 to 60000, got number 1.5");
  });

  it("names unknown keys with the likely intended one", () => {
    expect(() => validateOptions({ name: "x", tenant: {} }, schema, { where: "createTenantAuth" })).toThrow(/^createTenantAuth: unknown option tenant \(did you mean tenants\?\); known: /);
    expect(() => validateOptions({ name: "x", requiredTenant: true }, schema, { where: "w" })).toThrow("did you mean requireTenant?");
    expect(() => validateOptions({ name: "x", timeoutms: 1 }, schema, { where: "w" })).toThrow("did you mean timeoutMs?");
    expect(() => validateOptions({ name: "x", zzz: 1 }, schema, { where: "w" })).toThrow(/unknown option zzz; known/);
  });

  it("puts the nested path in messages", () => {
    expect(() => validateOptions({ name: "x", timeoutMs: "5" }, schema, { where: "createTenantAuth", path: "jwks." })).toThrow(/^createTenantAuth: jwks\.timeoutMs must be an integer/);
    expect(() => validateOptions("nope", schema, { where: "createTenantAuth", path: "jwks." })).toThrow('createTenantAuth: jwks must be an object, got the string "nope"');
  });

  it("requires required keys, and checks other types", () => {
    expect(() => validateOptions({}, schema, { where: "w" })).toThrow("w: name is required");
    expect(() => validateOptions({ name: "" }, schema, { where: "w" })).toThrow("name must be a non-empty string");
    expect(() => validateOptions({ name: "x", requireTenant: "false" }, schema, { where: "w" })).toThrow("requireTenant must be true or false");
    expect(() => validateOptions({ name: "x", mode: "c" }, schema, { where: "w" })).toThrow('mode must be one of "a", "b"');
    expect(() => validateOptions({ name: "x", tenants: [] }, schema, { where: "w" })).toThrow("tenants must be an object, got an array");
  });

  it("runs custom checks", () => {
    expect(() =>
      checkOption(3, "n", {
        type: "custom",
        check: (v, name) => {
          if (v !== 2) throw new TypeError(`${name} must be 2`);
        },
      }),
    ).toThrow("n must be 2");
  });
});

describe("renamed options", () => {
  const renamed = { ...schema, timeout: renamedTo("timeoutMs") } as const;

  it("accepts a deprecated name, checks it with the new name's rule, and moves it to the new name", () => {
    expect(() => validateOptions({ name: "x", timeout: 5 }, renamed, { where: "w" })).not.toThrow();
    expect(() => validateOptions({ name: "x", timeout: 1.5 }, renamed, { where: "w" })).toThrow("w: timeout must be an integer from 1 to 60000");
    const options = { name: "x", timeout: 5 };
    expect(renameOptions(options, renamed)).toEqual({ name: "x", timeoutMs: 5 });
    expect(options).toEqual({ name: "x", timeout: 5 });
    const current = { name: "x", timeoutMs: 5 };
    expect(renameOptions(current, renamed)).toBe(current);
  });

  it("refuses both names at once, and lists only current names for unknown keys", () => {
    expect(() => validateOptions({ name: "x", timeout: 5, timeoutMs: 5 }, renamed, { where: "w" })).toThrow("w: timeout is the deprecated name of timeoutMs; give only timeoutMs");
    expect(() => validateOptions({ name: "x", timeoutz: 5 }, renamed, { where: "w" })).toThrow(
      /unknown option timeoutz \(did you mean timeoutMs\?\); known: timeoutMs, tolerance, tenants, requireTenant, mode, name$/,
    );
  });
});

describe("closestName", () => {
  it("finds plural, case and small-typo slips, and nothing for unrelated names", () => {
    const known = ["tenantRoles", "groups", "scopes", "tenantHeader", "credentialsRequired"];
    expect(closestName("tenantRole", known)).toBe("tenantRoles");
    expect(closestName("group", known)).toBe("groups");
    expect(closestName("tenantheader", known)).toBe("tenantHeader");
    expect(closestName("credentialRequired", known)).toBe("credentialsRequired");
    expect(closestName("banana", known)).toBeUndefined();
  });
});
