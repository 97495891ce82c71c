import { createPublicKey, verify } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { JwksServer } from "../../src/testing/index.js";
import { refusal } from "../support/refusal.js";

const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("createTestIssuer", () => {
  it("mints Cognito-shaped ID tokens", async () => {
    const issuer = await createTestIssuer();
    const token = await issuer.idToken({ sub: "s", username: "alice", groups: ["g"], roles: ["arn:aws:iam::123456789012:role/R"], preferredRole: "arn:aws:iam::123456789012:role/R" });
    const [h, p] = token.split(".");
    expect(decode(h!)).toEqual({ alg: "RS256", kid: issuer.kid });
    const claims = decode(p!);
    expect(claims).toMatchObject({
      sub: "s",
      iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool",
      aud: "test-client-id",
      token_use: "id",
      "cognito:username": "alice",
      "cognito:groups": ["g"],
      "cognito:roles": ["arn:aws:iam::123456789012:role/R"],
      "cognito:preferred_role": "arn:aws:iam::123456789012:role/R",
    });
    expect((claims["exp"] as number) - (claims["iat"] as number)).toBe(3600);
    expect(claims).not.toHaveProperty("client_id");
    expect(claims).not.toHaveProperty("scope");
  });

  it("mints Cognito-shaped access tokens (no aud, no roles)", async () => {
    const issuer = await createTestIssuer({ userPoolId: "eu-central-1_Abc", clientId: "c1" });
    const claims = decode((await issuer.accessToken({ username: "bob", roles: ["ignored"], scopes: ["a", "b"] })).split(".")[1]!);
    expect(claims).toMatchObject({ token_use: "access", client_id: "c1", username: "bob", scope: "a b" });
    expect(claims["iss"]).toBe("https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Abc");
    expect(claims).not.toHaveProperty("aud");
    expect(claims).not.toHaveProperty("cognito:roles");
    expect(claims).not.toHaveProperty("cognito:groups");
  });

  it("signatures verify with the published key", async () => {
    for (const alg of ["RS256", "ES256"] as const) {
      const issuer = await createTestIssuer({ alg });
      const token = await issuer.idToken();
      const [h, p, s] = token.split(".");
      const key = createPublicKey({ key: issuer.jwks.keys[0] as never, format: "jwk" });
      const ok = verify("sha256", Buffer.from(`${h}.${p}`), alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key, Buffer.from(s!, "base64url"));
      expect(ok).toBe(true);
      expect((await createTenantAuth({ userPools: [issuer.userPool], requireTenant: false }).resolveTenant(token)).sub).toBeTruthy();
    }
  });

  it("claims override and remove defaults; expiresIn, notBefore, header, foreign key", async () => {
    const issuer = await createTestIssuer();
    const claims = decode((await issuer.idToken({ claims: { email: "a@b", jti: undefined }, expiresIn: -10, notBefore: 60 })).split(".")[1]!);
    expect(claims["email"]).toBe("a@b");
    expect(claims).not.toHaveProperty("jti");
    expect(claims["exp"]).toBeLessThan(Date.now() / 1000);
    expect(claims["nbf"]).toBeGreaterThan(Date.now() / 1000);
    expect(decode((await issuer.idToken({ header: { kid: "x", typ: "JWT" } })).split(".")[0]!)).toEqual({ alg: "RS256", kid: "x", typ: "JWT" });
    const auth = createTenantAuth({ userPools: [issuer.userPool], requireTenant: false });
    expect((await refusal(auth.resolveTenant(await issuer.idToken({ signWith: "foreign" })))).code).toBe("token_invalid");
  });

  it("sign() signs any payload as-is", async () => {
    const issuer = await createTestIssuer();
    const token = await issuer.sign({ anything: [1, 2] });
    expect(decode(token.split(".")[1]!)).toEqual({ anything: [1, 2] });
  });

  it("listen() serves the live JWKS on loopback, with a userPool entry that fetches it", async () => {
    const issuer = await createTestIssuer();
    const server = await issuer.listen();
    servers.push(server);
    expect(server.jwksUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json$/);
    const body = (await (await fetch(server.jwksUri)).json()) as { keys: { kid: string }[] };
    expect(body.keys.map((k) => k.kid)).toEqual([issuer.kid]);
    await issuer.rotate({ keepOld: true });
    const rotated = (await (await fetch(server.jwksUri)).json()) as { keys: { kid: string }[] };
    expect(rotated.keys).toHaveLength(2);
    expect(server.requestCount).toBe(2);
    expect(server.userPool).toMatchObject({ jwksUri: server.jwksUri, issuer: issuer.issuer });
    expect(server.userPool.jwks).toBeUndefined();
  });

  it("a fixed private key gives a stable kid and public JWKS", async () => {
    const first = await createTestIssuer();
    const { privateKey } = await (await import("jose")).generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await (await import("jose")).exportJWK(privateKey)), kid: "fixed-kid" };
    const a = await createTestIssuer({ privateJwk: jwk });
    const b = await createTestIssuer({ privateJwk: jwk });
    expect(a.kid).toBe("fixed-kid");
    expect(a.jwks).toEqual(b.jwks);
    expect(a.jwks.keys[0]).not.toHaveProperty("d");
    expect(first.kid).not.toBe(a.kid);
  });
});
