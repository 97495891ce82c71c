import type { UserPoolConfig } from "../core/verify.js";
import type { TestIssuer } from "./issuer.js";
import { createTestIssuer } from "./issuer.js";
import type { JwksServerBehavior } from "./jwks-server.js";
import { startJwksServer } from "./jwks-server.js";

/** Options of {@link createTestFleet}. Everything has a default. */
export interface TestFleetOptions {
  /** How many pools to start with; default 10. */
  pools?: number;
  /** Region of the pool ids (`<region>_Fleet0001`, ...); default `us-east-1`. */
  region?: string;
  /**
   * `"aws"` (default): each pool signs as its real Cognito issuer (`https://cognito-idp.<region>.amazonaws.com/<poolId>`),
   * and its config points `jwksUri` at the fleet's server. `"loopback"`: emulator-style issuers,
   * `http://127.0.0.1:<port>/<poolId>`, with the keys under them (allow them with `emulatorIssuers: [fleet.url + "/"]`).
   */
  issuers?: "aws" | "loopback";
  /** `ES256` (default: a fleet of hundreds starts in a moment) or `RS256` (Cognito's, slower to generate). */
  alg?: "RS256" | "ES256";
  /** App client id of every pool; default `test-client-id`. */
  clientId?: string;
}

/** One pool of a {@link TestFleet}: a test issuer whose `userPool` fetches its keys from the fleet. */
export interface TestFleetPool extends TestIssuer {
  /** `http://127.0.0.1:<port>/<poolId>/.well-known/jwks.json` */
  readonly jwksUri: string;
  /** JWKS requests the server received for this pool. */
  readonly fetchCount: number;
}

/** Many pools with their keys behind one loopback JWKS server that counts fetches per pool. */
export interface TestFleet {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pools: readonly TestFleetPool[];
  /** The pool of an issuer or pool id, if it is in the fleet. */
  pool(issuerOrPoolId: string): TestFleetPool | undefined;
  /** Add a pool (a tenant signing up) and start serving its keys. */
  addPool(): Promise<TestFleetPool>;
  /** Take a pool out: its keys are no longer served and `resolveUserPool` no longer knows it. */
  removePool(issuerOrPoolId: string): void;
  /** A `resolveUserPool` backed by the fleet, the way a tenants table would answer. */
  resolveUserPool(issuer: string): UserPoolConfig | undefined;
  /** JWKS requests received for every pool together. */
  readonly fetchCount: number;
  /** Switch the server to answering 500s, non-JSON, or never answering; `"ok"` to recover. */
  setBehavior(behavior: JwksServerBehavior): void;
  close(): Promise<void>;
}

/**
 * Stand up a fleet of test pools (a pool per tenant), their keys served by one JWKS server on
 * 127.0.0.1 that counts fetches per pool.
 *
 * @example
 * ```ts
 * const fleet = await createTestFleet({ pools: 200 });
 * const auth = createTenantAuth({ userPools: [], resolveUserPool: (iss) => fleet.resolveUserPool(iss), tenants: { from: "custom", resolve: ... } });
 * const token = await fleet.pools[42]!.idToken({ groups: ["tenant:acme"] });
 * await auth.resolveTenant(token);
 * fleet.pools[42]!.fetchCount; // 1
 * ```
 */
export async function createTestFleet(options: TestFleetOptions = {}): Promise<TestFleet> {
  const region = options.region ?? "us-east-1";
  const mode = options.issuers ?? "aws";
  const alg = options.alg ?? "ES256";
  const byIssuer = new Map<string, TestFleetPool>();
  const byPoolId = new Map<string, TestFleetPool>();
  const byPath = new Map<string, TestFleetPool>();
  const list: TestFleetPool[] = [];
  let next = 1;
  const server = await startJwksServer((path) => byPath.get(path)?.jwks);

  async function addPool(): Promise<TestFleetPool> {
    const userPoolId = `${region}_Fleet${String(next++).padStart(5, "0")}`;
    const path = `/${userPoolId}/.well-known/jwks.json`;
    const issuerUrl = mode === "loopback" ? `${server.url}/${userPoolId}` : undefined;
    const issuer = await createTestIssuer({
      userPoolId,
      alg,
      ...(issuerUrl === undefined ? {} : { issuer: issuerUrl }),
      ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
    });
    const jwksUri = `${server.url}${path}`;
    const userPool: UserPoolConfig = {
      userPoolId,
      clientId: issuer.clientId,
      tokenUse: null,
      ...(issuerUrl === undefined ? {} : { issuer: issuerUrl }),
      jwksUri,
    };
    const pool = Object.create(issuer, {
      userPool: { value: userPool, enumerable: true },
      jwksUri: { value: jwksUri, enumerable: true },
      fetchCount: { get: () => server.requestsFor(path), enumerable: true },
    }) as TestFleetPool;
    byIssuer.set(issuer.issuer, pool);
    byPoolId.set(userPoolId, pool);
    byPath.set(path, pool);
    list.push(pool);
    return pool;
  }

  // One after the other: key generation is CPU work, and parallel calls only interleave it.
  for (let i = 0; i < (options.pools ?? 10); i++) await addPool();

  const find = (key: string): TestFleetPool | undefined => byIssuer.get(key) ?? byPoolId.get(key);

  return {
    url: server.url,
    pools: list,
    pool: find,
    addPool,
    removePool(key) {
      const pool = find(key);
      if (pool === undefined) return;
      byIssuer.delete(pool.issuer);
      byPoolId.delete(pool.userPoolId);
      byPath.delete(new URL(pool.jwksUri).pathname);
      list.splice(list.indexOf(pool), 1);
    },
    resolveUserPool(issuer) {
      return byIssuer.get(issuer)?.userPool;
    },
    get fetchCount() {
      return server.requestCount;
    },
    setBehavior: (behavior) => server.setBehavior(behavior),
    close: () => server.close(),
  };
}
