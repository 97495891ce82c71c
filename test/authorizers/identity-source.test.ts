// The authorizer takes the entity types of the policy store's identity source (read at ready() or
// first use), so a policy written for the identity source decides the same whether this library
// builds the entities (IsAuthorized) or the service does from the token (IsAuthorizedWithToken).
import { VerifiedPermissionsClient } from "@aws-sdk/client-verifiedpermissions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantAuth, TenantPrincipal } from "../../src/index.js";
import { createTenantAuth, isTenantAuthError } from "../../src/index.js";
import { createVerifiedPermissionsAuthorizer } from "../../src/authorizers/verified-permissions.js";
import type { VerifiedPermissionsAuthorizerOptions } from "../../src/authorizers/verified-permissions.js";
import type { EmulatorIdentitySource, TestIssuer, VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { createTestIssuer, startVerifiedPermissionsEmulator } from "../../src/testing/index.js";

const POOL = "us-east-1_TestPool";
const POOL_ARN = `arn:aws:cognito-idp:us-east-1:123456789012:userpool/${POOL}`;

let issuer: TestIssuer;
let auth: TenantAuth;
const running: { emulator: VerifiedPermissionsEmulator; client: VerifiedPermissionsClient }[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer({ userPoolId: POOL });
  auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
});

afterAll(async () => {
  for (const r of running) {
    r.client.destroy();
    await r.emulator.close();
  }
});

/** A store with this identity source; without one, a store with none (no `userPools` either). */
async function store(policies: string, identitySource?: EmulatorIdentitySource) {
  const emulator = await startVerifiedPermissionsEmulator({ policies, ...(identitySource ? { identitySource, userPools: [issuer.userPool] } : {}) });
  const client = new VerifiedPermissionsClient({ ...emulator.clientConfig, maxAttempts: 1 });
  running.push({ emulator, client });
  const authorizer = (extra: Partial<VerifiedPermissionsAuthorizerOptions> = {}) =>
    createVerifiedPermissionsAuthorizer({ policyStoreId: emulator.policyStoreId, client, namespace: "App", timeoutMs: 10_000, cache: false, batch: false, ...extra });
  return { emulator, client, authorizer };
}

const principal = async (sub: string, groups: string[]): Promise<TenantPrincipal> => auth.resolveTenant(await issuer.idToken({ sub, groups }));
const readDoc = (p: TenantPrincipal) => ({ principal: p, action: "Read", resource: { type: "Doc", id: "d1" } });

async function unavailable(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => {
      throw new Error("expected authorizer_unavailable, got a decision");
    },
    (e: unknown) => e as Error,
  );
  expect(isTenantAuthError(err) && err.code).toBe("authorizer_unavailable");
  expect((err as { status?: number }).status).toBe(503);
  return err;
}

describe("the identity source's entity types, end to end through the real SDK client", () => {
  const cases = [
    {
      label: "default group type AWS::CognitoGroup",
      source: { userPoolArn: POOL_ARN, clientIds: [], principalEntityType: "App::User" },
      policy: `@id("admins") permit (principal in AWS::CognitoGroup::"${POOL}|admins", action == App::Action::"Read", resource);`,
    },
    {
      label: "custom types App::Member and App::UserGroup",
      source: { userPoolArn: POOL_ARN, clientIds: [], principalEntityType: "App::Member", groupEntityType: "App::UserGroup" },
      policy: `@id("admins") permit (principal is App::Member in App::UserGroup::"${POOL}|admins", action == App::Action::"Read", resource);`,
    },
  ];
  for (const c of cases) {
    it(`${c.label}: IsAuthorized (our mapping) decides as IsAuthorizedWithToken`, async () => {
      const s = await store(c.policy, c.source);
      const entities = s.authorizer();
      const withToken = s.authorizer({ mode: "withToken" });
      await entities.ready();
      await withToken.ready();
      expect(s.emulator.calls).toMatchObject({ GetPolicyStore: 2, ListIdentitySources: 2 });
      const admin = await principal("ada", ["admins"]);
      const staff = await principal("bob", ["staff"]);
      const decisions = [];
      for (const a of [entities, withToken]) {
        for (const p of [admin, staff]) decisions.push((await a.isAuthorized(readDoc(p))).decision);
      }
      expect(decisions).toEqual(["ALLOW", "DENY", "ALLOW", "DENY"]);
      expect(s.emulator.calls).toMatchObject({ IsAuthorized: 2, IsAuthorizedWithToken: 2 });
    });
  }

  it("without ready(), the first decision reads the store, once", async () => {
    const s = await store(cases[0]!.policy, cases[0]!.source);
    const a = s.authorizer();
    const admin = await principal("ada", ["admins"]);
    const ds = await Promise.all([a.isAuthorized(readDoc(admin)), a.isAuthorized(readDoc(admin))]);
    expect(ds.map((d) => d.decision)).toEqual(["ALLOW", "ALLOW"]);
    expect(s.emulator.calls).toMatchObject({ GetPolicyStore: 1, ListIdentitySources: 1 });
  });

  it("explicit types that agree with the identity source are accepted", async () => {
    const s = await store(cases[1]!.policy, cases[1]!.source);
    const a = s.authorizer({ userEntityType: "Member", groupEntityType: "App::UserGroup" });
    await a.ready();
    expect((await a.isAuthorized(readDoc(await principal("ada", ["admins"])))).decision).toBe("ALLOW");
  });
});

describe("ready() names what is wrong", () => {
  it("types that contradict the identity source: ready() rejects naming the option; decisions fail closed", async () => {
    const s = await store(`permit (principal, action, resource);`, { userPoolArn: POOL_ARN, clientIds: [], principalEntityType: "App::Member" });
    await expect(s.authorizer({ userEntityType: "User" }).ready()).rejects.toThrow(/userEntityType "App::User" does not match the identity source .*principalEntityType "App::Member"/);
    await expect(s.authorizer({ groupEntityType: "UserGroup" }).ready()).rejects.toThrow(/groupEntityType "App::UserGroup" does not match .*groupEntityType "AWS::CognitoGroup"/);
    s.emulator.resetCalls();
    const err = await unavailable(s.authorizer({ userEntityType: "User" }).isAuthorized(readDoc(await principal("ada", []))));
    expect((err.cause as Error).message).toMatch(/userEntityType "App::User" does not match/);
    expect(s.emulator.callCount).toBe(0); // never asked with the wrong types
  });

  it("a store that does not exist, or an id that is not one: ready() rejects naming the cause", async () => {
    const s = await store(`permit (principal, action, resource);`);
    await expect(s.authorizer({ policyStoreId: "PSwrong" }).ready()).rejects.toThrow(
      /policy store "PSwrong" could not be read \(GetPolicyStore\): ResourceNotFoundException.*check policyStoreId and region/,
    );
    await expect(s.authorizer({ policyStoreId: "not a store id" }).ready()).rejects.toThrow(/ValidationException/);
    // Without ready(): 503 with the same cause, for the logs.
    const err = await unavailable(s.authorizer({ policyStoreId: "PSwrong" }).isAuthorized(readDoc(await principal("ada", []))));
    expect((err.cause as Error).message).toMatch(/"PSwrong".*ResourceNotFoundException/);
  });

  it("a store that cannot be read (an outage at start) rejects, and the next try reads again", async () => {
    const s = await store(`permit (principal, action, resource);`);
    s.emulator.setBehavior("error", { times: 1, operations: ["GetPolicyStore"] });
    const a = s.authorizer();
    await expect(a.ready()).rejects.toThrow(/GetPolicyStore\): InternalServerException/);
    await a.ready();
    expect((await a.isAuthorized(readDoc(await principal("ada", [])))).decision).toBe("ALLOW");
  });

  it('mode "withToken" on a store without identity source: ready() rejects', async () => {
    const s = await store(`permit (principal, action, resource);`);
    await expect(s.authorizer({ mode: "withToken" }).ready()).rejects.toThrow(/has no identity source: mode "withToken" needs one/);
    // Entities mode needs none: the options (and their defaults) name the types.
    await s.authorizer().ready();
  });
});
