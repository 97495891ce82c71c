// The three-tenant scenario for the credentials tests: acme, globex and initech, each with an IAM
// role that reads its own bucket; a test issuer; the identity pool and STS emulators; the real SDK
// clients pointed at them.
import type { TenantAuth, TenantPrincipal } from "../../src/index.js";
import { createTenantAuth } from "../../src/index.js";
import { roleTenantsFrom } from "../../src/credentials/index.js";
import type { CognitoIdentityEmulator, StsEmulator, TestIssuer } from "../../src/testing/index.js";
import { createTestIssuer, startCognitoIdentityEmulator, startStsEmulator } from "../../src/testing/index.js";

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

export const ACCOUNT = "111122223333";
export const ROLE = {
  acme: `arn:aws:iam::${ACCOUNT}:role/tenants/acme-assets-reader`,
  globex: `arn:aws:iam::${ACCOUNT}:role/tenants/globex-assets-reader`,
  initech: `arn:aws:iam::${ACCOUNT}:role/tenants/initech-assets-reader`,
} as const;
export const ROLE_FOR_TENANT: Record<string, string> = { ...ROLE };
export const ABAC_ROLE = `arn:aws:iam::${ACCOUNT}:role/tenant-assets-reader`;
export const IDENTITY_POOL_ID = "us-east-1:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

export interface Users {
  /** In acme only. */
  alice(hint?: string): Promise<{ principal: TenantPrincipal; token: string }>;
  /** In acme (preferred role: acme's) and globex. */
  dave(hint?: string): Promise<{ principal: TenantPrincipal; token: string }>;
  /** dave's access token. */
  daveAccess(hint?: string): Promise<{ principal: TenantPrincipal; token: string }>;
  /** In the globex group, but his token's cognito:roles lacks globex's role (a group without a role). */
  frank(hint?: string): Promise<{ principal: TenantPrincipal; token: string }>;
  /** In no tenant. */
  erin(): Promise<{ principal: TenantPrincipal; token: string }>;
}

export interface Setup {
  readonly issuer: TestIssuer;
  readonly auth: TenantAuth;
  readonly identity: CognitoIdentityEmulator;
  readonly sts: StsEmulator;
  readonly users: Users;
  close(): Promise<void>;
}

export async function setup(options: { credentialsLifetimeSeconds?: number } = {}): Promise<Setup> {
  const issuer = await createTestIssuer();
  // One map for both directions: roleForTenant (credentials) and roleTenants (tenant selection).
  const auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false, tenants: { from: "groups", roleTenants: roleTenantsFrom(ROLE_FOR_TENANT) } });
  const identity = await startCognitoIdentityEmulator({
    identityPools: [
      {
        identityPoolId: IDENTITY_POOL_ID,
        providers: [{ userPool: issuer.userPool, clientIds: [issuer.clientId] }],
        roleMappings: {
          [`cognito-idp.us-east-1.amazonaws.com/${issuer.userPoolId}:${issuer.clientId}`]: { Type: "Token", AmbiguousRoleResolution: "Deny" },
        },
      },
    ],
    ...(options.credentialsLifetimeSeconds !== undefined ? { credentialsLifetimeSeconds: options.credentialsLifetimeSeconds } : {}),
  });
  const sts = await startStsEmulator({ roles: [ABAC_ROLE, ...Object.values(ROLE)] });
  const user =
    (name: string, groups: string[], roles: string[], preferredRole: string | undefined, tokenUse: "id" | "access" = "id") =>
    async (hint?: string) => {
      const mint = tokenUse === "id" ? issuer.idToken : issuer.accessToken;
      const token = await mint({ sub: `00000000-0000-4000-8000-${name.padStart(12, "0")}`, username: name, groups, roles, ...(preferredRole ? { preferredRole } : {}) });
      const principal = await auth.resolveTenant(token, hint === undefined ? {} : { tenantHint: hint });
      return { principal, token };
    };
  return {
    issuer,
    auth,
    identity,
    sts,
    users: {
      alice: user("a11ce", ["tenant:acme"], [ROLE.acme], ROLE.acme),
      dave: user("da7e", ["tenant:acme", "tenant:globex"], [ROLE.acme, ROLE.globex], ROLE.acme),
      daveAccess: user("da7e", ["tenant:acme", "tenant:globex"], [], undefined, "access"),
      frank: user("f4a2c", ["tenant:acme", "tenant:globex"], [ROLE.acme], ROLE.acme),
      erin: () => user("e121", ["beta-testers"], [], undefined)(),
    },
    async close() {
      await Promise.all([identity.close(), sts.close()]);
    },
  };
}
