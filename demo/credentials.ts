// The demo's AWS credentials: each tenant's IAM role and the bucket its policy lets it read, an
// identity pool (the testing kit's emulator, Token role mapping) and createTenantCredentials, which
// asks it for the role of the tenant each request acts for.
import type { UserPoolConfig } from "cognito-tenancy";
import type { TenantCredentialsSource } from "cognito-tenancy/credentials";
import { createTenantCredentials } from "cognito-tenancy/credentials";
import type { CognitoIdentityEmulator } from "cognito-tenancy/testing";
import { startCognitoIdentityEmulator } from "cognito-tenancy/testing";
import { BUCKET, ROLE } from "../fixtures/scenario.js";

export const IDENTITY_POOL_ID = "us-east-1:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

/** Tenant → its IAM role: sent as CustomRoleArn (the inverse of ROLE_TENANTS). */
export const ROLE_FOR_TENANT: Readonly<Record<string, string>> = { acme: ROLE.acme, globex: ROLE.globex, initech: ROLE.initech };

interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly { readonly Effect: "Allow" | "Deny"; readonly Action: readonly string[]; readonly Resource: string }[];
}

/** Each role's permissions policy, as you would attach it in IAM: read one bucket's objects. */
export const ROLE_POLICY: Readonly<Record<string, PolicyDocument>> = Object.fromEntries(
  (Object.keys(ROLE) as (keyof typeof ROLE)[]).map((tenant) => [
    ROLE[tenant],
    { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${BUCKET[tenant]}/*` }] },
  ]),
);

/** The buckets a role's policy lets it read objects of (from the policy document, not from a table). */
export function bucketsReadableBy(roleArn: string): string[] {
  const policy = ROLE_POLICY[roleArn];
  if (!policy) return [];
  return policy.Statement.filter((s) => s.Effect === "Allow" && s.Action.includes("s3:GetObject"))
    .map((s) => /^arn:aws:s3:::([^/]+)\/\*$/.exec(s.Resource)?.[1])
    .filter((b): b is string => b !== undefined);
}

export interface DemoCredentials {
  readonly source: TenantCredentialsSource;
  readonly emulator: CognitoIdentityEmulator;
  close(): Promise<void>;
}

/**
 * Start the identity pool and the credentials source. Call it before the first request is resolved:
 * from then on each principal keeps its ID token, which the identity pool needs.
 */
export async function startCredentials(userPool: UserPoolConfig, clientId: string): Promise<DemoCredentials> {
  // The SDK warns once, on stderr, that its releases after January 2027 need Node 22: about the
  // machine rather than the demo. Set the variable to "false" yourself to see it.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const emulator = await startCognitoIdentityEmulator({
    identityPools: [
      {
        identityPoolId: IDENTITY_POOL_ID,
        providers: [{ userPool, clientIds: [clientId] }],
        roleMappings: { [`cognito-idp.us-east-1.amazonaws.com/${userPool.userPoolId}:${clientId}`]: { Type: "Token", AmbiguousRoleResolution: "Deny" } },
      },
    ],
  });
  const source = createTenantCredentials({
    identityPool: { identityPoolId: IDENTITY_POOL_ID, clientConfig: emulator.clientConfig },
    roleForTenant: ROLE_FOR_TENANT,
    timeoutMs: 5000,
  });
  await source.ready();
  return { source, emulator, close: () => emulator.close() };
}
