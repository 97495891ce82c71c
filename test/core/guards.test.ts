import { beforeAll, describe, expect, it } from "vitest";
import { assertGroups, assertScopes, assertTenantRoles, authorizeOrThrow, createTenantAuth } from "../../src/index.js";
import type { Authorizer, TenantPrincipal } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import { refusal, refusalSync } from "../support/refusal.js";

let admin: TenantPrincipal;
let reader: TenantPrincipal;
beforeAll(async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  admin = await auth.resolveTenant(await issuer.accessToken({ groups: ["tenant:acme:admin", "staff"], scopes: ["a/read", "a/write"] }));
  reader = await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
});

describe("guards", () => {
  it("groups: any of a list, all of { all }", () => {
    expect(() => assertGroups(admin, ["x", "staff"])).not.toThrow();
    expect(() => assertGroups(admin, { all: ["staff", "tenant:acme:admin"] })).not.toThrow();
    expect(() => assertGroups(admin, { any: ["staff"] })).not.toThrow();
    const err = refusalSync(() => assertGroups(reader, ["staff"]));
    expect([err.code, err.status]).toEqual(["access_denied", 403]);
    expect(refusalSync(() => assertGroups(admin, { all: ["staff", "x"] })).code).toBe("access_denied");
    expect(refusalSync(() => assertGroups(admin, ["STAFF"])).code).toBe("access_denied");
  });

  it("tenant roles: any of, in the active tenant", () => {
    expect(() => assertTenantRoles(admin, ["admin", "owner"])).not.toThrow();
    expect(refusalSync(() => assertTenantRoles(reader, ["admin"])).code).toBe("access_denied");
  });

  it("scopes: all of, with an insufficient_scope challenge naming them", () => {
    expect(() => assertScopes(admin, ["a/read", "a/write"])).not.toThrow();
    const err = refusalSync(() => assertScopes(admin, ["a/read", "a/delete"]));
    expect([err.code, err.status]).toEqual(["insufficient_scope", 403]);
    expect(err.headers["WWW-Authenticate"]).toContain('scope="a/read a/delete"');
  });
});

describe("authorizeOrThrow", () => {
  const request = () => ({ principal: admin, action: "Read", resource: { type: "Object", id: "o1" } });
  const answering = (decision: unknown): Authorizer => ({ isAuthorized: async () => decision as never });

  it("passes an ALLOW through", async () => {
    const allow = { allowed: true, decision: "ALLOW", determiningPolicies: ["p1"], errors: [] };
    expect(await authorizeOrThrow(answering(allow), request())).toEqual(allow);
  });

  it("a DENY is 403 access_denied", async () => {
    const err = await refusal(authorizeOrThrow(answering({ allowed: false, decision: "DENY", determiningPolicies: [], errors: [] }), request()));
    expect([err.code, err.status]).toEqual(["access_denied", 403]);
  });

  it("nonsense answers deny", async () => {
    for (const d of [undefined, null, {}, { allowed: true }, { allowed: "yes", decision: "ALLOW" }, { allowed: true, decision: "DENY" }]) {
      expect((await refusal(authorizeOrThrow(answering(d), request()))).code).toBe("access_denied");
    }
  });

  it("an engine that throws is 503 authorizer_unavailable, never an allow", async () => {
    const broken: Authorizer = {
      isAuthorized: async () => {
        throw new Error("connect ECONNREFUSED");
      },
    };
    const err = await refusal(authorizeOrThrow(broken, request()));
    expect([err.code, err.status]).toEqual(["authorizer_unavailable", 503]);
    expect((err.cause as Error).message).toBe("connect ECONNREFUSED");
  });

  it("tells onDecision every ALLOW and DENY, and nothing when the engine could not answer", async () => {
    const seen: string[] = [];
    const listen = (d: { decision: string; determiningPolicies: readonly string[] }) => seen.push(`${d.decision}:${d.determiningPolicies.join(",")}`);
    await authorizeOrThrow(answering({ allowed: true, decision: "ALLOW", determiningPolicies: ["p1"], errors: [] }), request(), listen);
    await refusal(authorizeOrThrow(answering({ allowed: false, decision: "DENY", determiningPolicies: ["f1"], errors: [] }), request(), listen));
    await refusal(authorizeOrThrow(answering(undefined), request(), listen));
    const broken: Authorizer = { isAuthorized: () => Promise.reject(new Error("down")) };
    await refusal(authorizeOrThrow(broken, request(), listen));
    expect(seen).toEqual(["ALLOW:p1", "DENY:f1"]);
  });
});
