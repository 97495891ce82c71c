// clearCache() is what the guide says to call after a policy deploy. A decision that was already
// on its way when the cache was cleared was made under the old policies: it must not be stored
// (it would be served for the whole TTL), nor handed to requests made after the clear.
import { describe, expect, it } from "vitest";
import { createTenantAuth } from "../../../src/index.js";
import { createVerifiedPermissionsAuthorizer } from "../../../src/authorizers/verified-permissions.js";
import { createTestIssuer } from "../../../src/testing/index.js";

function controllableClient() {
  let answer = "ALLOW";
  const waiting: (() => void)[] = [];
  let calls = 0;
  let hold = true;
  let onCall: (() => void) | undefined;
  const respond = () => ({ decision: answer, determiningPolicies: [{ policyId: "p" }], errors: [] });
  return {
    client: {
      isAuthorized: () => {
        calls++;
        onCall?.();
        if (!hold) return Promise.resolve(respond());
        const decided = respond(); // decided now, under the policies in force now
        return new Promise((resolve) => waiting.push(() => resolve(decided)));
      },
      batchIsAuthorized: async () => ({ results: [] }),
      isAuthorizedWithToken: async () => ({}),
      batchIsAuthorizedWithToken: async () => ({ results: [] }),
    },
    deploy(next: string) {
      answer = next;
    },
    release() {
      hold = false;
      for (const w of waiting.splice(0)) w();
    },
    /** Resolves when the client has been asked (the decision is then on its way). */
    asked(): Promise<void> {
      return new Promise((resolve) => {
        onCall = resolve;
      });
    },
    get calls() {
      return calls;
    },
  };
}

describe("clearCache() while a decision is in flight", async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  const principal = await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
  const request = { principal, action: "Read", resource: { type: "Doc", id: "d1" } };

  it("the old decision is neither cached nor shared with requests made after the clear", async () => {
    const c = controllableClient();
    const a = createVerifiedPermissionsAuthorizer({ policyStoreId: "ps", client: c.client, namespace: "Ns", timeoutMs: 5000, batch: false });
    const asked = c.asked();
    const before = a.isAuthorized(request); // decided under the old policies (ALLOW)
    await asked;
    c.deploy("DENY");
    a.clearCache();
    const after = a.isAuthorized(request); // made after the deploy and the clear
    c.release();
    expect((await before).allowed).toBe(true);
    expect((await after).allowed).toBe(false);
    // And nothing from before the clear was kept.
    expect((await a.isAuthorized(request)).allowed).toBe(false);
  });
});
