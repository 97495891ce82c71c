/**
 * Tenant credentials: the cost of a cached `forPrincipal` (the path every request but the first
 * per user, tenant and hour takes), and the AWS calls over a credential's validity, counted at the
 * identity pool emulator with the clock stepped through the hour.
 */
import { createTenantAuth } from "../src/index.js";
import { createTenantCredentials } from "../src/credentials/index.js";
import { createTestIssuer, startCognitoIdentityEmulator } from "../src/testing/index.js";
import type { Candidate } from "./measure.js";

const ROLE = "arn:aws:iam::111122223333:role/tenants/acme-assets-reader";
const POOL = "us-east-1:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

export interface CredentialsBench {
  readonly candidates: Candidate[];
  /** The emulator's calls after every timed round (all within one validity). */
  calls(): { GetId: number; GetCredentialsForIdentity: number };
  /** Calls while the clock steps minute by minute through the first 54 minutes, then at minute 56. */
  overTheHour(): Promise<{ within: number; minutes: number; afterMargin: number }>;
  close(): Promise<void>;
}

export async function credentialsBench(): Promise<CredentialsBench> {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const issuer = await createTestIssuer({ userPoolId: "us-east-1_TestPool" });
  const emulator = await startCognitoIdentityEmulator({
    identityPools: [
      {
        identityPoolId: POOL,
        providers: [{ userPool: issuer.userPool, clientIds: [issuer.clientId] }],
        roleMappings: { [`cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool:${issuer.clientId}`]: { Type: "Token", AmbiguousRoleResolution: "Deny" } },
      },
    ],
  });
  const creds = createTenantCredentials({ identityPool: { identityPoolId: POOL, clientConfig: emulator.clientConfig }, roleForTenant: { acme: ROLE }, timeoutMs: 10_000 });
  await creds.ready();
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  const principal = await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"], roles: [ROLE], preferredRole: ROLE }));
  await creds.forPrincipal(principal);

  return {
    candidates: [
      {
        id: "credsCached",
        label: "`forPrincipal` with the credentials cached (identity pool mode: checks + cache lookup)",
        async run(ops) {
          for (let i = 0; i < ops; i++) await creds.forPrincipal(principal);
        },
      },
    ],
    calls: () => ({ ...emulator.calls }),
    async overTheHour() {
      const realNow = Date.now;
      const t0 = realNow();
      creds.clearCache();
      emulator.resetCalls();
      try {
        let minutes = 0;
        for (let m = 0; m <= 54; m++, minutes++) {
          Date.now = () => t0 + m * 60_000;
          await creds.forPrincipal(principal);
        }
        const within = emulator.calls.GetCredentialsForIdentity;
        Date.now = () => t0 + 56 * 60_000; // inside the 5-minute margin: refreshed
        await creds.forPrincipal(principal);
        return { within, minutes, afterMargin: emulator.calls.GetCredentialsForIdentity - within };
      } finally {
        Date.now = realNow;
      }
    },
    close: () => emulator.close(),
  };
}
