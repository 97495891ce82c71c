// A Verified Permissions answer whose decision is well formed but whose other fields are not
// (errors or determiningPolicies that are not lists of objects) must reject with the typed
// authorizer_unavailable the Authorizer contract promises, not with a TypeError: callers that use
// the authorizer directly (as the withToken guide does) would otherwise answer 500.
import { describe, expect, it } from "vitest";
import { isTenantAuthError } from "../../../src/index.js";
import { createVerifiedPermissionsAuthorizer } from "../../../src/authorizers/verified-permissions.js";
import { createTestIssuer } from "../../../src/testing/index.js";
import { createTenantAuth } from "../../../src/index.js";

const answers: [string, unknown][] = [
  ["errors as a string", { decision: "ALLOW", determiningPolicies: [], errors: "evaluation failed" }],
  ["errors holding null", { decision: "ALLOW", determiningPolicies: [], errors: [null] }],
  ["determiningPolicies as an object", { decision: "DENY", determiningPolicies: { policyId: "p" }, errors: [] }],
  ["determiningPolicies holding null", { decision: "ALLOW", determiningPolicies: [null], errors: [] }],
];

describe("malformed fields in a Verified Permissions answer", async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  const principal = await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
  for (const batched of [false, true]) {
    for (const [label, answer] of answers) {
      it(`${label}${batched ? " (batched)" : ""}: rejects with authorizer_unavailable`, async () => {
        const client = {
          isAuthorized: async () => answer,
          batchIsAuthorized: async (input: unknown) => ({ results: (input as { requests: unknown[] }).requests.map((request) => ({ request, ...(answer as object) })) }),
          isAuthorizedWithToken: async () => answer,
          batchIsAuthorizedWithToken: async () => ({ results: [] }),
        };
        const a = createVerifiedPermissionsAuthorizer({ policyStoreId: "ps", client, namespace: "Ns", timeoutMs: 1000, cache: false, batch: batched && { minSize: 2 } });
        const requests = (batched ? ["a", "b"] : ["a"]).map((id) => a.isAuthorized({ principal, action: "Read", resource: { type: "Doc", id } }));
        for (const r of requests) {
          const err = await r.then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isTenantAuthError(err) && err.code === "authorizer_unavailable", String(err)).toBe(true);
        }
      });
    }
  }
});
