import { KeyObject as NodeKeyObject, createPrivateKey, randomUUID, sign as cryptoSign } from "node:crypto";
import type { CryptoKey, JWK, KeyObject } from "jose";
import type { UserPoolConfig } from "../core/verify.js";
import type { JwksServer } from "./jwks-server.js";
import { startJwksServer } from "./jwks-server.js";

type SigningKey = CryptoKey | KeyObject | Uint8Array;

/** Options of {@link createTestIssuer}. Everything has a default. */
export interface TestIssuerOptions {
  /** Default `us-east-1_TestPool`. */
  userPoolId?: string;
  /** Default: the region prefix of `userPoolId`. */
  region?: string;
  /** App client id put in `aud` / `client_id`; default `test-client-id`. */
  clientId?: string;
  /**
   * Issuer to sign as. Default: the AWS issuer of the pool. Give an emulator-style one
   * (`http://localhost:9229/local_pool`) to test that path.
   */
  issuer?: string;
  /** `RS256` (Cognito's, default) or `ES256`. */
  alg?: "RS256" | "ES256";
  /** Sign with this private JWK instead of a fresh key (the committed fixture key, for instance). */
  privateJwk?: JWK;
}

/** What a minted token says. Omitted fields get Cognito-like defaults. */
export interface TestTokenOptions {
  /** Default: a random UUID. */
  sub?: string;
  /** `cognito:username` (ID) or `username` (access); default `sub`. */
  username?: string;
  /** `cognito:groups`; omitted from the token when empty, as Cognito does. */
  groups?: readonly string[];
  /** `cognito:roles` (ID tokens). */
  roles?: readonly string[];
  /** `cognito:preferred_role` (ID tokens). */
  preferredRole?: string;
  /** `scope` (access tokens); default `["aws.cognito.signin.user.admin"]`. */
  scopes?: readonly string[];
  /** Override the app client id. */
  clientId?: string;
  /** Extra claims, merged last: they override defaults; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  /** Lifetime in seconds from `issuedAt`; default 3600. Negative mints an expired token. */
  expiresIn?: number;
  /** `iat` as a Date or epoch seconds; default now. */
  issuedAt?: Date | number;
  /** Seconds from now until `nbf` (Cognito sets none; for negative tests). */
  notBefore?: number;
  /** Header fields merged over `{ alg, kid }` (e.g. `{ kid: "other" }`, `{ crit: ["x"] }`). */
  header?: Record<string, unknown>;
  /** `"foreign"` signs with a key the JWKS does not hold (same `kid`); or pass your own key. */
  signWith?: "issuer" | "foreign" | SigningKey;
}

/** A Cognito-shaped token issuer for tests: real keys, real signatures, no network. */
export interface TestIssuer {
  readonly userPoolId: string;
  readonly region: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly alg: "RS256" | "ES256";
  /** The `kid` of the current signing key. */
  readonly kid: string;
  /** The public JWKS (every key still published). */
  readonly jwks: { keys: JWK[] };
  /** A ready `userPools` entry: this issuer, keys preloaded (never fetched), any token use. */
  readonly userPool: UserPoolConfig;
  /** Mint an ID token. */
  idToken(options?: TestTokenOptions): Promise<string>;
  /** Mint an access token. */
  accessToken(options?: TestTokenOptions): Promise<string>;
  /** Sign any payload as-is (no defaults added), for malformed-claim tests. */
  sign(payload: Record<string, unknown>, options?: Pick<TestTokenOptions, "header" | "signWith">): Promise<string>;
  /** Start signing with a new key; `keepOld` keeps the old public key in the JWKS. */
  rotate(options?: { keepOld?: boolean }): Promise<void>;
  /** Serve the JWKS on 127.0.0.1 (port 0) and get a `userPool` entry that fetches from it. */
  listen(): Promise<JwksServer & { readonly userPool: UserPoolConfig }>;
}

interface KeyPair {
  kid: string;
  privateKey: SigningKey;
  publicJwk: JWK;
}

type Jose = typeof import("jose");
let joseModule: Promise<Jose> | undefined;

/**
 * jose (an optional peer) is loaded on the first issuer, with import() in both builds: jose 6 is
 * ESM only, and a top-level require of it fails on the Node 20 releases without require(esm).
 */
function loadJose(): Promise<Jose> {
  joseModule ??= import("jose").catch((err: unknown) => {
    joseModule = undefined;
    throw new Error("cognito-tenancy/testing needs jose: npm install --save-dev jose", { cause: err });
  });
  return joseModule;
}

async function newKeyPair(alg: "RS256" | "ES256", privateJwk?: JWK): Promise<KeyPair> {
  const { exportJWK, generateKeyPair, importJWK } = await loadJose();
  if (privateJwk) {
    const kid = privateJwk.kid ?? `test-${randomUUID()}`;
    const privateKey = (await importJWK(privateJwk, alg)) as SigningKey;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = privateJwk;
    return { kid, privateKey, publicJwk: { ...pub, kid, alg, use: "sig" } };
  }
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `test-${randomUUID()}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, privateKey, publicJwk };
}

// Signed here rather than with jose's SignJWT: negative tests need headers jose refuses to
// produce (unknown `crit`, odd `kid` types), and the signature is the same either way. CryptoKeys
// (what jose makes) are signed with WebCrypto, which takes non-extractable keys as they are.
async function signCompact(header: Record<string, unknown>, payload: Record<string, unknown>, key: SigningKey, alg: "RS256" | "ES256"): Promise<string> {
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  const data = Buffer.from(input);
  let signature: Buffer;
  if (key instanceof NodeKeyObject || key instanceof Uint8Array) {
    const nodeKey = key instanceof NodeKeyObject ? key : createPrivateKey({ key: Buffer.from(key), format: "der", type: "pkcs8" });
    signature = cryptoSign("sha256", data, alg === "ES256" ? { key: nodeKey, dsaEncoding: "ieee-p1363" } : nodeKey);
  } else {
    // ECDSA in WebCrypto already yields r || s, the JWS form.
    const algorithm = alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5" };
    signature = Buffer.from(await globalThis.crypto.subtle.sign(algorithm, key as Parameters<typeof globalThis.crypto.subtle.sign>[1], data));
  }
  return `${input}.${signature.toString("base64url")}`;
}

/**
 * Create a test issuer with a fresh key pair (or the one you give). Its tokens look like
 * Cognito's: the same claims for each token use, the same issuer format.
 *
 * @example
 * ```ts
 * const issuer = await createTestIssuer();
 * const auth = createTenantAuth({ userPools: [issuer.userPool] });
 * const token = await issuer.idToken({ groups: ["tenant:acme"] });
 * (await auth.resolveTenant(token)).tenantId; // "acme"
 * ```
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const userPoolId = options.userPoolId ?? "us-east-1_TestPool";
  const region = options.region ?? userPoolId.split("_")[0] ?? "us-east-1";
  const clientId = options.clientId ?? "test-client-id";
  const issuer = options.issuer ?? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const alg = options.alg ?? "RS256";
  let current = await newKeyPair(alg, options.privateJwk);
  let published: JWK[] = [current.publicJwk];
  let foreign: KeyPair | undefined;
  const jwks = { keys: published };

  async function sign(payload: Record<string, unknown>, opts: Pick<TestTokenOptions, "header" | "signWith"> = {}): Promise<string> {
    let key: SigningKey = current.privateKey;
    if (opts.signWith === "foreign") {
      foreign ??= await newKeyPair(alg);
      key = foreign.privateKey;
    } else if (opts.signWith !== undefined && opts.signWith !== "issuer") {
      key = opts.signWith;
    }
    const header = { alg, kid: current.kid, ...opts.header };
    return signCompact(header, payload, key, alg);
  }

  function baseClaims(tokenUse: "id" | "access", o: TestTokenOptions): Record<string, unknown> {
    const iat = o.issuedAt === undefined ? Math.floor(Date.now() / 1000) : typeof o.issuedAt === "number" ? o.issuedAt : Math.floor(o.issuedAt.getTime() / 1000);
    const sub = o.sub ?? randomUUID();
    const claims: Record<string, unknown> = { sub };
    if (o.groups && o.groups.length > 0) claims["cognito:groups"] = [...o.groups];
    if (tokenUse === "id") {
      if (o.roles && o.roles.length > 0) claims["cognito:roles"] = [...o.roles];
      if (o.preferredRole !== undefined) claims["cognito:preferred_role"] = o.preferredRole;
      claims["email_verified"] = true;
      claims["iss"] = issuer;
      claims["cognito:username"] = o.username ?? sub;
      claims["origin_jti"] = randomUUID();
      claims["aud"] = o.clientId ?? clientId;
      claims["event_id"] = randomUUID();
      claims["token_use"] = "id";
      claims["auth_time"] = iat;
      claims["exp"] = iat + (o.expiresIn ?? 3600);
      claims["iat"] = iat;
      claims["jti"] = randomUUID();
    } else {
      claims["iss"] = issuer;
      claims["client_id"] = o.clientId ?? clientId;
      claims["origin_jti"] = randomUUID();
      claims["event_id"] = randomUUID();
      claims["token_use"] = "access";
      claims["scope"] = (o.scopes ?? ["aws.cognito.signin.user.admin"]).join(" ");
      claims["auth_time"] = iat;
      claims["exp"] = iat + (o.expiresIn ?? 3600);
      claims["iat"] = iat;
      claims["jti"] = randomUUID();
      claims["username"] = o.username ?? sub;
    }
    if (o.notBefore !== undefined) claims["nbf"] = Math.floor(Date.now() / 1000) + o.notBefore;
    for (const [k, v] of Object.entries(o.claims ?? {})) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    return claims;
  }

  const self: TestIssuer = {
    userPoolId,
    region,
    issuer,
    clientId,
    alg,
    get kid() {
      return current.kid;
    },
    jwks,
    userPool: {
      userPoolId,
      clientId,
      tokenUse: null,
      ...(options.issuer === undefined ? {} : { issuer }),
      jwks,
    },
    idToken: (o = {}) => sign(baseClaims("id", o), o),
    accessToken: (o = {}) => sign(baseClaims("access", o), o),
    sign,
    async rotate(o = {}) {
      current = await newKeyPair(alg);
      published = o.keepOld ? [...jwks.keys, current.publicJwk] : [current.publicJwk];
      jwks.keys = published;
    },
    async listen() {
      const server = await startJwksServer(() => jwks);
      const userPool: UserPoolConfig = { userPoolId, clientId, tokenUse: null, issuer, jwksUri: server.jwksUri };
      return Object.assign(server, { userPool }) as JwksServer & { readonly userPool: UserPoolConfig };
    },
  };
  return self;
}
