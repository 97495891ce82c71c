import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { isTenantAuthError } from "../core/errors.js";
import type { TenantPrincipal } from "../core/principal.js";
import { createTenantAuth } from "../core/tenant-auth.js";
import type { TenantAuth } from "../core/tenant-auth.js";
import type { UserPoolConfig } from "../core/verify.js";
import type { IdentityPoolRoleMapping } from "../credentials/role-mapping.js";
import { explainIdentityPoolRole } from "../credentials/role-mapping.js";
import type { AwsCredentialsEmulator } from "./aws-emulator-server.js";
import { AwsServiceError, answerAwsJson, credentialsEmulatorHandle, failAwsJson, randomSecret, startLoopbackServer, temporaryAccessKeyId } from "./aws-emulator-server.js";

/** The operations the identity pool emulator speaks. */
export type CognitoIdentityOperation = "GetId" | "GetCredentialsForIdentity";

/** One identity pool of the emulator. */
export interface EmulatedIdentityPool {
  /** `<region>:<guid>`. Any other id gets `ResourceNotFoundException`. */
  readonly identityPoolId: string;
  /**
   * Its Cognito user pool providers: a pool (e.g. `issuer.userPool` of `createTestIssuer`) and the
   * app clients whose ID tokens it accepts. The provider name is the pool's issuer without `https://`.
   */
  readonly providers: readonly { readonly userPool: UserPoolConfig; readonly clientIds: readonly string[] }[];
  /**
   * Role mappings, keyed as in the service: `cognito-idp.<region>.amazonaws.com/<poolId>:<clientId>`.
   * A provider without one gets `authenticatedRole`.
   */
  readonly roleMappings?: Readonly<Record<string, IdentityPoolRoleMapping>>;
  /** The pool's authenticated role (`Roles.authenticated`). */
  readonly authenticatedRole?: string;
}

/** Options of {@link startCognitoIdentityEmulator}. */
export interface CognitoIdentityEmulatorOptions {
  readonly identityPools: readonly EmulatedIdentityPool[];
  /** Lifetime of the credentials it hands out; default 3600 s (the service's one hour). */
  readonly credentialsLifetimeSeconds?: number;
}

/** What a set of credentials from an emulator was issued for. */
export interface IssuedCredentials {
  readonly roleArn: string;
  /** Session tags (STS emulator). */
  readonly tags: Readonly<Record<string, string>>;
  /** The inline session policy (STS emulator). */
  readonly sessionPolicy: string | undefined;
  /** The identity (identity pool emulator). */
  readonly identityId: string | undefined;
  /** The role session name (STS emulator). */
  readonly roleSessionName: string | undefined;
  readonly expiration: Date;
}

/**
 * A running identity pool emulator; `new CognitoIdentityClient(emulator.clientConfig)`, or
 * `identityPool.clientConfig`. `setBehavior("throttle")` answers `TooManyRequestsException`.
 */
export interface CognitoIdentityEmulator extends AwsCredentialsEmulator<CognitoIdentityOperation> {
  /** What the credentials with this access key id were issued for (role, identity), or `undefined`. */
  issued(accessKeyId: string): IssuedCredentials | undefined;
}

const invalidParameter = (message: string) => new AwsServiceError("InvalidParameterException", 400, message);
const notAuthorized = (message: string) => new AwsServiceError("NotAuthorizedException", 400, message);

/**
 * Start a local Amazon Cognito identity pool service on 127.0.0.1 (port 0) that speaks its
 * protocol (AWS JSON 1.1: `POST /`, `X-Amz-Target: AWSCognitoIdentityService.<Operation>`) for
 * `GetId` and `GetCredentialsForIdentity`, so the real `@aws-sdk/client-cognito-identity` works
 * against it. It verifies the ID token in `Logins` (signature with the user pool's keys, issuer,
 * `aud` against the provider's app clients, expiry) and picks the role as the service documents it
 * (`explainIdentityPoolRole`: `CustomRoleArn` when in `cognito:roles`, else
 * `cognito:preferred_role`, ...). The credentials are random; `issued(accessKeyId)` tells which
 * role and identity they were issued for. Errors are the service's: `ResourceNotFoundException`,
 * `NotAuthorizedException`, `InvalidParameterException`, `InvalidIdentityPoolConfigurationException`,
 * `TooManyRequestsException`, `InternalErrorException`.
 */
export async function startCognitoIdentityEmulator(options: CognitoIdentityEmulatorOptions): Promise<CognitoIdentityEmulator> {
  const lifetime = options.credentialsLifetimeSeconds ?? 3600;
  const pools = new Map<string, { def: EmulatedIdentityPool; auth: TenantAuth; providers: Map<string, string> }>();
  for (const def of options.identityPools) {
    const userPools = def.providers.map((p) => ({ ...p.userPool, clientId: [...p.clientIds], tokenUse: null }));
    const auth = createTenantAuth({ userPools, requireTenant: false, tenants: { from: "custom", resolve: () => [] } });
    const providers = new Map<string, string>();
    for (const p of def.providers) {
      const region = p.userPool.userPoolId.split("_")[0] ?? "us-east-1";
      const issuer = p.userPool.issuer ?? `https://cognito-idp.${region}.amazonaws.com/${p.userPool.userPoolId}`;
      providers.set(issuer.replace(/^https?:\/\//, ""), issuer);
    }
    pools.set(def.identityPoolId, { def, auth, providers });
  }
  const calls: Record<CognitoIdentityOperation, number> = { GetId: 0, GetCredentialsForIdentity: 0 };
  const issued = new Map<string, IssuedCredentials>();

  function poolOf(id: unknown) {
    if (typeof id !== "string" || !/^[\w-]+:[0-9a-f-]+$/.test(id)) throw invalidParameter("1 validation error detected: Value at 'identityPoolId' failed to satisfy constraint");
    const pool = pools.get(id);
    if (!pool) throw new AwsServiceError("ResourceNotFoundException", 400, `IdentityPool '${id}' not found.`);
    return pool;
  }

  function identityIdFor(poolId: string, principal: TenantPrincipal): string {
    const h = createHash("sha256").update(`${poolId}\u0000${principal.issuer}\u0000${principal.sub}`).digest("hex");
    const region = poolId.slice(0, poolId.indexOf(":"));
    return `${region}:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }

  /** The one login of a request, verified. */
  async function login(pool: NonNullable<ReturnType<typeof pools.get>>, logins: unknown): Promise<{ provider: string; principal: TenantPrincipal }> {
    if (logins === undefined || logins === null || (typeof logins === "object" && Object.keys(logins).length === 0)) {
      throw notAuthorized("Unauthenticated access is not supported for this identity pool.");
    }
    if (typeof logins !== "object" || Array.isArray(logins)) throw invalidParameter("Logins must be a map");
    const entries = Object.entries(logins as Record<string, unknown>);
    if (entries.length !== 1) throw invalidParameter("the emulator takes exactly one login");
    const [provider, token] = entries[0]!;
    const issuer = pool.providers.get(provider);
    if (issuer === undefined) throw notAuthorized(`Token is not from a supported provider of this identity pool.`);
    if (typeof token !== "string" || token === "") throw invalidParameter("Invalid login token.");
    let principal: TenantPrincipal;
    try {
      principal = await pool.auth.resolveTenant(token);
    } catch (err) {
      if (isTenantAuthError(err) && err.code === "token_expired") throw notAuthorized("Invalid login token. Token expired.");
      throw notAuthorized(`Invalid login token. ${isTenantAuthError(err) ? err.message : "Token could not be verified."}`);
    }
    if (principal.issuer !== issuer) throw notAuthorized("Invalid login token. Issuer doesn't match providerName");
    if (principal.tokenUse !== "id") throw notAuthorized("Invalid login token. Not a valid OpenId Connect identity token.");
    return { provider, principal };
  }

  async function handle(op: CognitoIdentityOperation, body: Record<string, unknown>): Promise<unknown> {
    if (op === "GetId") {
      const pool = poolOf(body["IdentityPoolId"]);
      const { principal } = await login(pool, body["Logins"]);
      return { IdentityId: identityIdFor(pool.def.identityPoolId, principal) };
    }
    const identityId = body["IdentityId"];
    if (typeof identityId !== "string" || !/^[\w-]+:[0-9a-f-]+$/.test(identityId)) throw invalidParameter("1 validation error detected: Value at 'identityId' failed to satisfy constraint");
    const region = identityId.slice(0, identityId.indexOf(":"));
    // The identity belongs to one of our pools in its region; the login must be its user's.
    for (const pool of pools.values()) {
      if (!pool.def.identityPoolId.startsWith(`${region}:`)) continue;
      const { provider, principal } = await login(pool, body["Logins"]);
      if (identityIdFor(pool.def.identityPoolId, principal) !== identityId) continue;
      const custom = body["CustomRoleArn"];
      if (custom !== undefined && (typeof custom !== "string" || !/^arn:[\w+=/,.@:-]+$/.test(custom) || custom.length > 2048)) {
        throw invalidParameter("1 validation error detected: Value at 'customRoleArn' failed to satisfy constraint");
      }
      const mapping = pool.def.roleMappings?.[`${provider}:${principal.clientId ?? ""}`];
      const choice = explainIdentityPoolRole(principal.claims, {
        ...(mapping ? { roleMapping: mapping } : {}),
        ...(pool.def.authenticatedRole ? { authenticatedRole: pool.def.authenticatedRole } : {}),
        ...(typeof custom === "string" ? { customRoleArn: custom } : {}),
      });
      if (choice.role === undefined) {
        if (choice.source === "deny") throw notAuthorized("Ambiguous role mapping rules for: the identity pool's role mapping denies this user.");
        throw new AwsServiceError("InvalidIdentityPoolConfigurationException", 400, "Invalid identity pool configuration. Check assigned IAM roles for this pool.");
      }
      const expiration = new Date(Math.floor(Date.now() / 1000 + lifetime) * 1000);
      const accessKeyId = temporaryAccessKeyId();
      issued.set(accessKeyId, Object.freeze({ roleArn: choice.role, tags: Object.freeze({}), sessionPolicy: undefined, identityId, roleSessionName: undefined, expiration }));
      return {
        IdentityId: identityId,
        Credentials: { AccessKeyId: accessKeyId, SecretKey: randomSecret(30), SessionToken: randomSecret(96), Expiration: expiration.getTime() / 1000 },
      };
    }
    throw notAuthorized("Logins don't match. Please include at least one valid login for this identity or identity pool.");
  }

  const fail = (res: ServerResponse, err: AwsServiceError) => failAwsJson(res, "1.1", err);

  const server = await startLoopbackServer(async (req, raw, res) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const op = target.startsWith("AWSCognitoIdentityService.") ? target.slice("AWSCognitoIdentityService.".length) : "";
    if (req.method !== "POST" || (op !== "GetId" && op !== "GetCredentialsForIdentity")) {
      return fail(res, new AwsServiceError("UnknownOperationException", 400, `unsupported operation ${JSON.stringify(target)}`));
    }
    calls[op]++;
    const behavior = server.takeBehavior();
    if (behavior === "hang") return;
    if (behavior === "error") return fail(res, new AwsServiceError("InternalErrorException", 500, "emulated internal error"));
    if (behavior === "throttle") return fail(res, new AwsServiceError("TooManyRequestsException", 429, "Rate exceeded"));
    await answerAwsJson(
      res,
      raw,
      "1.1",
      (body) => handle(op, body),
      (message) => new AwsServiceError("InternalErrorException", 500, message),
    );
  });

  return credentialsEmulatorHandle(server, calls, issued);
}
