/**
 * In-process verification: the signature alone (the floor), aws-jwt-verify, jose, and
 * resolveTenant cold (every token new to the instance) and warm (the same token again).
 */
import { createPublicKey, verify as cryptoVerify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { importJWK, jwtVerify } from "jose";
import { createTenantAuth } from "../src/index.js";
import type { TenantAuth } from "../src/index.js";
import type { Candidate } from "./measure.js";
import type { BenchTokens } from "./tokens.js";

export async function verifyCandidates({ issuer, tokens }: BenchTokens): Promise<Candidate[]> {
  const n = tokens.length;
  const jwk = issuer.jwks.keys[0]!;
  const headers = tokens.map((t) => `Bearer ${t}`);

  // The floor: RSA-SHA256 over header.payload with a prepared KeyObject. No parsing, no claims.
  const keyObject: KeyObject = createPublicKey({ key: jwk as never, format: "jwk" });
  const split = tokens.map((t) => {
    const dot = t.lastIndexOf(".");
    return { data: Buffer.from(t.slice(0, dot)), sig: t.slice(dot + 1) };
  });

  // What a user writes with aws-jwt-verify: the Cognito verifier with the JWKS cached.
  const awsVerifier = CognitoJwtVerifier.create({ userPoolId: issuer.userPoolId, tokenUse: "id", clientId: issuer.clientId });
  awsVerifier.cacheJwks(issuer.jwks as never);

  // jose with a prepared key.
  const joseKey = await importJWK(jwk, "RS256");
  const joseOptions = { issuer: issuer.issuer, audience: issuer.clientId, algorithms: ["RS256"] };

  const userPools = [{ ...issuer.userPool, tokenUse: "id" as const, clientId: issuer.clientId }];
  const coldNoCache = createTenantAuth({ userPools, cache: false });
  // A token outside the measured set: a fresh instance resolves it first (untimed), so its key
  // object exists, as in a long-lived process; the measured tokens are all new to it.
  const primer = `Bearer ${await issuer.idToken({ groups: ["tenant:acme"] })}`;
  let coldFresh: TenantAuth = createTenantAuth({ userPools });
  const warm = createTenantAuth({ userPools });
  for (const h of headers) await warm.resolveTenant(h);
  for (const h of headers) await coldNoCache.resolveTenant(h);

  let sink: unknown;
  const candidates: Candidate[] = [
    {
      id: "floor",
      label: "node:crypto RS256 signature only",
      run(ops) {
        for (let i = 0; i < ops; i++) {
          const s = split[i % n]!;
          if (!cryptoVerify("RSA-SHA256", s.data, keyObject, Buffer.from(s.sig, "base64url"))) throw new Error("bad signature");
        }
      },
    },
    {
      id: "awsSync",
      label: "aws-jwt-verify verifySync",
      run(ops) {
        for (let i = 0; i < ops; i++) sink = awsVerifier.verifySync(tokens[i % n]!);
      },
    },
    {
      id: "awsAsync",
      label: "aws-jwt-verify verify (await)",
      async run(ops) {
        for (let i = 0; i < ops; i++) sink = await awsVerifier.verify(tokens[i % n]!);
      },
    },
    {
      id: "jose",
      label: "jose jwtVerify (prepared key)",
      async run(ops) {
        for (let i = 0; i < ops; i++) sink = await jwtVerify(tokens[i % n]!, joseKey, joseOptions);
      },
    },
    {
      id: "coldNoCache",
      label: "resolveTenant cold (cache: false)",
      async run(ops) {
        for (let i = 0; i < ops; i++) sink = await coldNoCache.resolveTenant(headers[i % n]!);
      },
    },
    {
      id: "coldFresh",
      label: "resolveTenant cold (cache on, every token new)",
      // A fresh instance per sample, and at most one pass over the tokens: every call is a miss.
      maxOps: n,
      async setup() {
        coldFresh = createTenantAuth({ userPools });
        await coldFresh.resolveTenant(primer);
      },
      async run(ops) {
        for (let i = 0; i < ops; i++) sink = await coldFresh.resolveTenant(headers[i]!);
      },
    },
    {
      id: "warm",
      label: "resolveTenant warm (same token again)",
      async run(ops) {
        for (let i = 0; i < ops; i++) sink = await warm.resolveTenant(headers[i % n]!);
      },
    },
  ];
  void sink;
  return candidates;
}
