/**
 * The CLI through its entry point: in process (`run` with captured streams) for each command and
 * option, and as a real child process for stdin and exit codes.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../../src/cli/run.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { root, SPAWN_TIMEOUT } from "../support/run-script.js";

const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
const policiesDir = resolve(root, "fixtures/policies");
const schemaFile = resolve(root, "fixtures/policies/tenancy-demo.cedarschema");

async function cli(args: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const input = Object.assign(Readable.from(stdin === "" ? [] : [stdin]), { isTTY: stdin === "" ? true : undefined });
  const code = await run(args, {
    stdin: input,
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
  });
  return { code, out, err };
}

let issuer: TestIssuer;
let jwksFile: string;
let dir: string;

beforeAll(async () => {
  issuer = await createTestIssuer({ userPoolId: "us-east-1_TestPool", clientId: "fixture-test-client" });
  dir = mkdtempSync(join(tmpdir(), "cognito-tenancy-cli-"));
  jwksFile = join(dir, "jwks.json");
  writeFileSync(jwksFile, JSON.stringify(issuer.jwks));
});

const pool = () => ["--pool", issuer.userPoolId, "--jwks", jwksFile, "--client", issuer.clientId];

describe("inspect", () => {
  it("decodes, marks the result unverified, shows the principal, and never prints the token", async () => {
    const token = await issuer.idToken({ username: "alice", groups: ["tenant:acme:admin"] });
    const { code, out } = await cli(["inspect", token]);
    expect(code).toBe(0);
    expect(out).toMatch(/^UNVERIFIED/);
    expect(out).toContain("tenant       acme, roles admin");
    expect(out).toContain('"cognito:username": "alice"');
    expect(out).toMatch(/expires\s+\S+ \(in 60 min\)/);
    expect(out).toContain("warnings     none");
    expect(out).not.toContain(token);
    expect(out).not.toContain(token.split(".")[2]);
  });

  it("warns and exits 1 for an expired token or one with no tenant", async () => {
    const expired = await issuer.idToken({ groups: ["tenant:acme"], expiresIn: -7200, issuedAt: Math.floor(Date.now() / 1000) - 10_000 });
    const e = await cli(["inspect", expired]);
    expect(e.code).toBe(1);
    expect(e.out).toMatch(/- expired \d+ (min|h) ago \(token_expired\)/);
    const none = await cli(["inspect", await issuer.idToken({ groups: ["admins"] })]);
    expect(none.code).toBe(1);
    expect(none.out).toContain("the principal would be refused: tenant_missing");
  });

  it("takes a hint and other strategies, and answers --json", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme", "tenant:globex"], claims: { "custom:tenant_id": "initech" } });
    const hinted = JSON.parse((await cli(["inspect", "--json", "--hint", "globex", `Bearer ${token}`])).out);
    expect(hinted).toMatchObject({ verified: false, principal: { tenantId: "globex", tenants: [{ tenantId: "acme" }, { tenantId: "globex" }] }, warnings: [] });
    expect(JSON.stringify(hinted)).not.toContain(token);
    const byClaim = JSON.parse((await cli(["inspect", "--json", "--tenant-claim", "custom:tenant_id", token])).out);
    expect(byClaim.principal.tenantId).toBe("initech");
    const byPattern = JSON.parse((await cli(["inspect", "--json", "--group-pattern", "^org-(?<tenant>\\w+)$", await issuer.idToken({ groups: ["org-umbrella"] })])).out);
    expect(byPattern.principal.tenantId).toBe("umbrella");
  });

  it("refuses what is not a JWT with exit 1, and usage mistakes with exit 2", async () => {
    const bad = await cli(["inspect", "not-a-token"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("Not a decodable JWT");
    expect((await cli(["inspect", "--bogus", "x"])).code).toBe(2);
    expect((await cli(["inspect"])).code).toBe(2);
    expect((await cli(["inspect", "--group-pattern", "(", "x"])).err).toContain("--group-pattern is not a regular expression");
    expect((await cli(["frobnicate"])).code).toBe(2);
  });
});

describe("verify", () => {
  it("verifies offline against a JWKS file and exits 0", async () => {
    const token = await issuer.idToken({ username: "bob", groups: ["tenant:globex"] });
    const { code, out } = await cli(["verify", ...pool(), token]);
    expect(code).toBe(0);
    expect(out).toMatch(/^VALID/);
    expect(out).toContain("tenant       globex");
    expect(out).not.toContain(token);
  });

  it("refuses a forged, an expired and a wrong-client token with exit 1 and the error code", async () => {
    const forged = await cli(["verify", "--json", ...pool(), await issuer.idToken({ signWith: "foreign" })]);
    expect(forged.code).toBe(1);
    expect(JSON.parse(forged.out)).toMatchObject({ valid: false, error: { code: "token_invalid", status: 401 } });
    const expired = await cli(["verify", ...pool(), await issuer.idToken({ expiresIn: -60 })]);
    expect(expired.code).toBe(1);
    expect(expired.out).toContain("REFUSED      401 token_expired");
    const otherClient = await cli(["verify", ...pool(), await issuer.idToken({ clientId: "someone-else" })]);
    expect(otherClient.code).toBe(1);
    expect(otherClient.out).toContain("token_invalid");
    const wrongUse = await cli(["verify", ...pool(), "--token-use", "access", await issuer.idToken()]);
    expect(wrongUse.code).toBe(1);
  });

  it("warns when no client is checked, and needs --pool", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const { code, out } = await cli(["verify", "--pool", issuer.userPoolId, "--jwks", jwksFile, token]);
    expect(code).toBe(0);
    expect(out).toContain("warning    no --client: the token's app client was not checked");
    const missing = await cli(["verify", token]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--pool is required");
    expect((await cli(["verify", "--pool", issuer.userPoolId, "--jwks", join(dir, "nope.json"), token])).code).toBe(2);
  });
});

describe("decide", () => {
  const base = () => ["decide", "--policies", policiesDir, "--schema", schemaFile, "--action", "ListBucket"];

  it("allows a tenant's own bucket with the determining policy, verified first", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const { code, out } = await cli([...base(), "--resource", "Bucket::acme-assets", ...pool(), token]);
    expect(code).toBe(0);
    expect(out).toMatch(/^ALLOW\s+TenancyDemo::Action::"ListBucket" on TenancyDemo::Bucket::"acme-assets"/);
    expect(out).toContain("determined by acme-reads-own-bucket");
    expect(out).not.toContain("UNVERIFIED");
  });

  it("denies another tenant's bucket, listing the policies considered, and exits 1", async () => {
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const { code, out } = await cli([...base(), "--resource", 'TenancyDemo::Bucket::"globex-assets"', "--json", token]);
    expect(code).toBe(1);
    const data = JSON.parse(out);
    expect(data).toMatchObject({ verified: false, decision: "DENY", allowed: false, determiningPolicies: [] });
    expect(data.consideredPolicies).toContain("globex-reads-own-bucket");
    expect(data.warnings).toContain("token not verified (give --pool and --jwks to verify it first)");
  });

  it("refuses a forged token before deciding, and reports bad policies as a usage error", async () => {
    const forged = await cli([...base(), "--resource", "Bucket::acme-assets", ...pool(), await issuer.idToken({ groups: ["tenant:acme"], signWith: "foreign" })]);
    expect(forged.code).toBe(1);
    expect(forged.out).toContain("REFUSED      401 token_invalid");
    const badPolicy = join(dir, "bad.cedar");
    writeFileSync(badPolicy, "permit (principal, action, resource) when { nonsense };");
    const token = await issuer.idToken({ groups: ["tenant:acme"] });
    const bad = await cli(["decide", "--policies", badPolicy, "--namespace", "TenancyDemo", "--action", "ReadObject", "--resource", "Bucket::x", token]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("the policies cannot be used");
    expect((await cli(["decide", "--policies", policiesDir, "--action", "ReadObject", "--resource", "Bucket::x", token])).err).toContain("--namespace is required");
    expect((await cli([...base(), "--resource", "no-separator", token])).err).toContain("--resource must look like");
  });
});

describe("the command", () => {
  function spawnCli(args: string[], stdin: string): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [tsxCli, resolve(root, "src/cli/main.ts"), ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      child.stderr.on("data", (d: Buffer) => (err += d));
      child.on("error", fail);
      child.on("close", (code) => done({ code, out, err }));
      child.stdin.end(stdin);
    });
  }

  it(
    "reads the token from stdin and exits with the verdict",
    async () => {
      const token = await issuer.idToken({ groups: ["tenant:acme"] });
      const ok = await spawnCli(["verify", ...pool()], `${token}\n`);
      expect(ok.code).toBe(0);
      expect(ok.out).toContain("VALID");
      const refused = await spawnCli(["verify", ...pool(), "-"], `Bearer ${await issuer.idToken({ expiresIn: -60 })}`);
      expect(refused.code).toBe(1);
      const usage = await spawnCli(["verify"], token);
      expect(usage.code).toBe(2);
      const help = await spawnCli(["decide", "--help"], "");
      expect(help.code).toBe(0);
      expect(help.out).toContain("Usage: cognito-tenancy decide");
    },
    SPAWN_TIMEOUT,
  );
});
