// Each example runs with the one command its README gives, prints its results and exits 0.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScriptResult } from "../support/run-script.js";
import { SPAWN_TIMEOUT, root, runScript } from "../support/run-script.js";

const EXAMPLES = ["express-api", "fastify-api", "hono", "lambda-authorizer", "verified-permissions"] as const;
type Example = (typeof EXAMPLES)[number];

// Each example runs once; the tests below share its output.
const runs = new Map<Example, Promise<ScriptResult>>();
function run(name: Example): Promise<ScriptResult> {
  let result = runs.get(name);
  if (result === undefined) {
    result = runScript(`examples/${name}/main.ts`);
    runs.set(name, result);
  }
  return result;
}

describe.each(EXAMPLES)("examples/%s", (name) => {
  it("its README gives the command that runs it", () => {
    const readme = readFileSync(join(root, "examples", name, "README.md"), "utf8");
    expect(readme).toContain("```bash\nnpx tsx examples/" + name + "/main.ts\n```");
  });

  it.concurrent(
    "runs, prints its results, and exits 0",
    async () => {
      const { code, stdout, stderr } = await run(name);
      expect(code, stdout + stderr).toBe(0);
      const results = stdout.split("\n").filter((l) => /^(ok|!!) /.test(l));
      expect(results.length).toBeGreaterThanOrEqual(5);
      expect(results.filter((l) => l.startsWith("!!"))).toEqual([]);
      expect(stdout).toMatch(/all (\d+ )?(answers|decisions) as expected/);
    },
    SPAWN_TIMEOUT,
  );
});

describe("what the examples show", () => {
  it.concurrent(
    "express-api: statuses and error codes of the adapter",
    async () => {
      const { stdout } = await run("express-api");
      expect(stdout).toMatch(/ok {2}200 {2}GET \/me .*"tenantId":"acme","tenantRoles":\["admin"\]/);
      expect(stdout).toMatch(/ok {2}400 {2}GET \/projects .*"error":"tenant_ambiguous"/);
      expect(stdout).toMatch(/ok {2}403 {2}GET \/projects +bob x-tenant-id: acme .*"error":"tenant_forbidden"/);
      expect(stdout).toMatch(/ok {2}401 {2}GET \/me +\(no token\) .*"error":"token_missing"/);
    },
    SPAWN_TIMEOUT,
  );

  it.concurrent(
    "fastify-api: Fastify's error body with our codes",
    async () => {
      const { stdout } = await run("fastify-api");
      expect(stdout).toMatch(/ok {2}403 {2}DELETE \/projects\/g1 .*"code":"access_denied"/);
      expect(stdout).toMatch(/ok {2}401 {2}GET \/me +expired .*"code":"token_expired"/);
    },
    SPAWN_TIMEOUT,
  );

  it.concurrent(
    "hono: the adapter's statuses and error codes, the JSON body of the other adapters",
    async () => {
      const { stdout } = await run("hono");
      expect(stdout).toMatch(/ok {2}200 {2}GET \/me .*"tenantId":"acme","tenantRoles":\["admin"\]/);
      expect(stdout).toMatch(/ok {2}403 {2}DELETE \/projects\/g1 .*"error":"access_denied"/);
      expect(stdout).toMatch(/ok {2}401 {2}GET \/me +expired .*"error":"token_expired"/);
    },
    SPAWN_TIMEOUT,
  );

  it.concurrent(
    "lambda-authorizer: stage-wide Allow, Deny with the error, Unauthorized",
    async () => {
      const { stdout } = await run("lambda-authorizer");
      expect(stdout).toContain('"Resource": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*"');
      expect(stdout).toMatch(/ok {2}REQUEST, dave, X-Tenant-Id: acme: Allow[\s\S]*?"tenantId": "acme"[\s\S]*?"tenantRoleArn": "arn:aws:iam::111122223333:role\/tenants\/acme-assets-reader"/);
      expect(stdout).toMatch(/ok {2}REQUEST, bob \(globex\), X-Tenant-Id: acme: Deny[\s\S]*?"error": "tenant_forbidden"/);
      expect(stdout).toContain('throws Error("Unauthorized")');
    },
    SPAWN_TIMEOUT,
  );

  it.concurrent(
    "verified-permissions: one IsAuthorized call per decision of the listing, fail closed",
    async () => {
      const { stdout } = await run("verified-permissions");
      expect(stdout).toContain('"IsAuthorized":4,"BatchIsAuthorized":0');
      expect(stdout).toContain("answered from the cache, emulator calls: 0");
      expect(stdout).toContain("authorizer_unavailable (503)");
    },
    SPAWN_TIMEOUT,
  );
});
