// Packs the library as npm would publish it, installs the tarball into a throwaway project, and
// uses every subpath from ESM, from CommonJS and from TypeScript. The project sits inside the
// repository so that the peers (express, fastify, the AWS SDK, cedar-wasm, jose) resolve from
// our node_modules, while cognito-tenancy itself resolves only from the tarball.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
let project: string;

const SUBPATHS: Record<string, string[]> = {
  "cognito-tenancy": ["createTenantAuth", "TenantAuthError", "isTenantAuthError", "toCedarEntities", "normalizeClaims", "principalFromClaims", "extractToken"],
  "cognito-tenancy/express": ["tenantAuth", "requireGroups", "requireTenantRoles", "requireTenantRole", "requireScopes", "authorize", "tenantAuthErrorHandler"],
  "cognito-tenancy/fastify": ["tenantAuthPlugin"],
  "cognito-tenancy/nestjs": ["TenantAuthModule", "TenantAuthGuard", "TenantAuthExceptionFilter", "Tenant", "RequireGroups", "RequireTenantRoles", "RequireScopes", "Authorize", "SkipTenantAuth"],
  "cognito-tenancy/cedar-authorization": ["toAuthorizationEngine", "fromAuthorizationEngine", "principalEntity"],
  "cognito-tenancy/hono": ["tenantAuth", "requireGroups", "requireTenantRoles", "requireScopes", "authorize"],
  "cognito-tenancy/lambda": ["withTenant", "createAuthorizerHandler", "principalFromApiGatewayClaims", "tenantAuthMiddleware"],
  "cognito-tenancy/verified-permissions": ["createVerifiedPermissionsAuthorizer"],
  "cognito-tenancy/cedar": ["createCedarAuthorizer"],
  "cognito-tenancy/credentials": ["createTenantCredentials", "explainIdentityPoolRole", "roleTenantsFrom"],
  "cognito-tenancy/testing": ["createTestIssuer", "startVerifiedPermissionsEmulator", "startCognitoIdentityEmulator", "startStsEmulator"],
};

const run = (cmd: string, args: string[], cwd = root) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

beforeAll(() => {
  run("npm", ["run", "build"]);
  const out = mkdtempSync(join(root, ".tmp-pack-"));
  project = out;
  const packed = JSON.parse(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", out])) as { filename: string; files: { path: string }[] }[];
  const tarball = join(out, packed[0]!.filename);
  const target = join(project, "node_modules", "cognito-tenancy");
  mkdirSync(target, { recursive: true });
  run("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "pack-test", private: true, type: "module" }));
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("the published package", () => {
  it("holds dist/, the guides, examples, policy and event fixtures, README, LICENSE, NOTICE and CHANGELOG", () => {
    const files = JSON.parse(run("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"])) as { files: { path: string }[] }[];
    const paths = files[0]!.files.map((f) => f.path);
    const shipped = /^(dist\/|docs\/[^/]+\.md$|examples\/|fixtures\/((policies|events)\/|README\.md$)|README\.md$|LICENSE$|NOTICE$|CHANGELOG\.md$|package\.json$)/;
    expect(paths.filter((p) => !shipped.test(p))).toEqual([]);
    // Test-only keys and tokens stay in the repository.
    expect(paths.filter((p) => /fixtures\/(keys|tokens)\//.test(p))).toEqual([]);
    expect(paths).toContain("dist/index.js");
    expect(paths).toContain("dist/index.cjs");
    expect(paths).toContain("dist/index.d.ts");
    expect(paths).toContain("dist/index.d.cts");
  });

  it("every relative link in the packed README and guides resolves inside the package", () => {
    const pkg = join(project, "node_modules", "cognito-tenancy");
    const docs = [
      "README.md",
      ...readdirSync(join(pkg, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ];
    const broken: string[] = [];
    let checked = 0;
    for (const doc of docs) {
      const text = readFileSync(join(pkg, doc), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^([a-z]+:|#)/.test(target!)) continue;
        const path = target!.split("#")[0]!;
        checked++;
        if (!existsSync(join(pkg, dirname(doc), path))) broken.push(`${doc}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it("docs/getting-started.md runs as written: step 1 installs what its files use, and its test passes", () => {
    const page = readFileSync(join(root, "docs/getting-started.md"), "utf8");
    const installed = new Set(
      [...page.matchAll(/^npm install (.+)$/gm)].flatMap(([, args]) =>
        args!
          .replace(/#.*/, "")
          .split(/\s+/)
          .filter((a) => a !== "" && !a.startsWith("-")),
      ),
    );
    expect(page).toMatch(/^npm pkg set type=module/m);
    const files = [...page.matchAll(/<!-- snippet: (examples\/snippets\/[\w.-]+) -->/g)].map(([, f]) => f!);
    expect(files.length).toBe(3);
    const used = new Set<string>(["typescript", "vitest", "tsx"]);
    for (const file of files) {
      const name = file.split("/").pop()!;
      expect(page, `the page names the file ${name}`).toContain(`\`${name}\``);
      for (const [, spec] of readFileSync(join(root, file), "utf8").matchAll(/from "([^".][^"]*)"/g)) {
        if (spec!.startsWith("node:")) used.add("@types/node");
        else {
          const pkgName = spec!.startsWith("@") ? spec!.split("/").slice(0, 2).join("/") : spec!.split("/")[0]!;
          used.add(pkgName);
          if (pkgName === "express") used.add("@types/express");
          if (spec === "cognito-tenancy/testing") used.add("jose");
        }
      }
    }
    expect([...used].filter((p) => !installed.has(p))).toEqual([]);

    // The page's files, in a folder of their own, against the packed package.
    const folder = join(project, "getting-started");
    mkdirSync(folder, { recursive: true });
    for (const file of files) writeFileSync(join(folder, file.split("/").pop()!), readFileSync(join(root, file), "utf8"));
    // Vitest looks for a config up the tree and would find the repository's; a user's folder has none.
    writeFileSync(join(folder, "vitest.config.mjs"), "export default {};\n");
    const out = run("node", [join(root, "node_modules/vitest/vitest.mjs"), "run", "--reporter", "dot"], folder);
    expect(out.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(/Tests\s+4 passed/);
  }, 120_000);

  it("every subpath imports from ESM", () => {
    const lines = Object.entries(SUBPATHS).map(
      ([spec, names], i) =>
        `import * as m${i} from ${JSON.stringify(spec)};\n` + `for (const n of ${JSON.stringify(names)}) if (typeof m${i}[n] !== "function") throw new Error(${JSON.stringify(spec)} + " lacks " + n);`,
    );
    writeFileSync(join(project, "esm.mjs"), `${lines.join("\n")}\nconsole.log("esm ok");\n`);
    expect(run("node", ["esm.mjs"], project).trim()).toBe("esm ok");
  });

  it("every subpath requires from CommonJS", () => {
    const lines = Object.entries(SUBPATHS).map(
      ([spec, names], i) =>
        `const m${i} = require(${JSON.stringify(spec)});\n` + `for (const n of ${JSON.stringify(names)}) if (typeof m${i}[n] !== "function") throw new Error(${JSON.stringify(spec)} + " lacks " + n);`,
    );
    writeFileSync(join(project, "cjs.cjs"), `${lines.join("\n")}\nconsole.log("cjs ok");\n`);
    expect(run("node", ["cjs.cjs"], project).trim()).toBe("cjs ok");
  });

  it("withToken finds the token of a principal across entry points (one shared module instance), ESM and CJS", () => {
    const body = (load: (spec: string) => string) => `
const { createTenantAuth } = ${load("cognito-tenancy")};
const { createVerifiedPermissionsAuthorizer } = ${load("cognito-tenancy/verified-permissions")};
const { createTestIssuer, startVerifiedPermissionsEmulator } = ${load("cognito-tenancy/testing")};
const issuer = await createTestIssuer();
const em = await startVerifiedPermissionsEmulator({ policies: 'permit (principal, action, resource);', userPools: [issuer.userPool] });
const auth = createTenantAuth({ userPools: [issuer.userPool] });
const a = createVerifiedPermissionsAuthorizer({ policyStoreId: em.policyStoreId, namespace: "Demo", mode: "withToken", cache: false, timeoutMs: 30000,
  clientConfig: { endpoint: em.endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } } });
await a.ready();
const principal = await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
const d = await a.isAuthorized({ principal, action: "Read", resource: { type: "Doc", id: "d" } });
await em.close();
console.log(JSON.stringify({ decision: d.decision, withToken: em.calls.IsAuthorizedWithToken }));`;
    writeFileSync(
      join(project, "token.mjs"),
      body((spec) => `await import(${JSON.stringify(spec)})`),
    );
    writeFileSync(join(project, "token.cjs"), `(async () => {${body((spec) => `require(${JSON.stringify(spec)})`)}})();`);
    for (const file of ["token.mjs", "token.cjs"]) {
      const out = run("node", [file], project).trim().split("\n").pop()!;
      expect(JSON.parse(out), file).toEqual({ decision: "ALLOW", withToken: 1 });
    }
  }, 60_000);

  it("importing the core loads no framework, AWS SDK, Cedar or jose", () => {
    writeFileSync(
      join(project, "light.cjs"),
      `require("cognito-tenancy");
const heavy = Object.keys(require.cache).filter((f) => /node_modules[\\\\/](express|fastify|hono|@hono|@aws-sdk|@cedar-policy|jose|@middy)[\\\\/]/.test(f));
console.log(JSON.stringify(heavy));`,
    );
    expect(JSON.parse(run("node", ["light.cjs"], project))).toEqual([]);
  });

  // Each file the ESM loader or require() opens costs a cold start time (docs/benchmarks.md), so
  // the root entry is two files: itself and the one shared core every entry imports.
  it("the root entry loads two files of ours (index and the shared core), from CommonJS and from ESM", () => {
    writeFileSync(
      join(project, "files.cjs"),
      `require("cognito-tenancy");
console.log(JSON.stringify(Object.keys(require.cache).filter((f) => /node_modules[\\\\/]cognito-tenancy[\\\\/]/.test(f)).map((f) => f.split(/[\\\\/]/).pop()).sort()));`,
    );
    expect(JSON.parse(run("node", ["files.cjs"], project))).toEqual(["core.cjs", "index.cjs"]);

    const dist = join(project, "node_modules", "cognito-tenancy", "dist");
    const relativeImports = (file: string) => [...readFileSync(join(dist, file), "utf8").matchAll(/^(?:import|export)\b[^;]*?from\s*['"](\.[^'"]+)['"]/gm)].map((m) => m[1]);
    expect(relativeImports("index.js")).toEqual(["./core.js"]);
    expect(relativeImports("core.js")).toEqual([]);
    // Every other entry shares that one core rather than carrying a copy of it.
    for (const entry of ["express.js", "fastify.js", "hono.js", "lambda.js", "verified-permissions.js", "cedar.js", "testing.js"]) {
      expect(relativeImports(entry), entry).toContain("./core.js");
    }
  });

  it("a TypeScript file using every subpath type-checks (NodeNext)", () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(root, "node_modules/@types")],
        },
        files: ["use.ts", "use-cjs.cts"],
      }),
    );
    const body = `
const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_Abc", clientId: "c", tokenUse: "id" }] });
export async function check(header: string): Promise<string | undefined> {
  const p: TenantPrincipal = await auth.resolveTenant(header, { tenantHint: "acme" });
  const e: TenantAuthError = new TenantAuthError("token_invalid", "x");
  const s: number = e.status;
  void s; void tenantAuth; void honoTenantAuth; void tenantAuthPlugin; void withTenant; void createCedarAuthorizer;
  void createVerifiedPermissionsAuthorizer; void createTestIssuer; void toCedarEntities;
  return p.tenantId;
}`;
    const imports = `
import { createTenantAuth, TenantAuthError, toCedarEntities } from "cognito-tenancy";
import type { TenantPrincipal } from "cognito-tenancy";
import { tenantAuth } from "cognito-tenancy/express";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";
import { tenantAuth as honoTenantAuth } from "cognito-tenancy/hono";
import { withTenant } from "cognito-tenancy/lambda";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";
import { createTestIssuer } from "cognito-tenancy/testing";`;
    writeFileSync(join(project, "use.ts"), imports + body);
    writeFileSync(join(project, "use-cjs.cts"), imports + body);
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    let output = "";
    try {
      output = run("node", [tsc, "-p", "tsconfig.json"], project);
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(output).toBe("");
  }, 60_000);

  it("a classic CommonJS TypeScript project (module commonjs, moduleResolution node10) finds every subpath's types", () => {
    writeFileSync(
      join(project, "tsconfig.node10.json"),
      JSON.stringify({
        compilerOptions: {
          module: "commonjs",
          moduleResolution: "node10",
          target: "ES2022",
          strict: true,
          noEmit: true,
          esModuleInterop: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules/@types")],
        },
        files: ["use-node10.ts"],
      }),
    );
    writeFileSync(
      join(project, "use-node10.ts"),
      `import { createTenantAuth } from "cognito-tenancy";
import { tenantAuth, requireTenantRoles } from "cognito-tenancy/express";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";
import { requireTenantRoles as honoRoles } from "cognito-tenancy/hono";
import { RequireTenantRoles } from "cognito-tenancy/nestjs";
import { toAuthorizationEngine } from "cognito-tenancy/cedar-authorization";
import { withTenant } from "cognito-tenancy/lambda";
import { createCedarAuthorizer } from "cognito-tenancy/cedar";
import { createVerifiedPermissionsAuthorizer } from "cognito-tenancy/verified-permissions";
import { createTestIssuer } from "cognito-tenancy/testing";
const auth = createTenantAuth({ userPools: [{ userPoolId: "us-east-1_Abc", clientId: "c", tokenUse: "id" }] });
export const used = [tenantAuth(auth), requireTenantRoles("admin"), honoRoles("admin"), RequireTenantRoles("admin"), toAuthorizationEngine, tenantAuthPlugin, withTenant, createCedarAuthorizer, createVerifiedPermissionsAuthorizer, createTestIssuer];
`,
    );
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    let output = "";
    try {
      output = run("node", [tsc, "-p", "tsconfig.node10.json"], project);
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(output).toBe("");
  }, 60_000);

  it("the testing kit works from CommonJS on a Node without require(esm) (jose 6 is ESM only)", () => {
    writeFileSync(
      join(project, "no-require-esm.cjs"),
      `const { createTestIssuer } = require("cognito-tenancy/testing");
const { createTenantAuth } = require("cognito-tenancy");
(async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  const p = await auth.resolveTenant(await issuer.idToken({ groups: ["tenant:acme"] }));
  console.log(p.tenantId);
})().catch((err) => { console.error(err); process.exit(1); });`,
    );
    expect(run("node", ["--no-experimental-require-module", "no-require-esm.cjs"], project).trim()).toBe("acme");
  }, 60_000);

  it("the cognito-tenancy command runs from the installed package", async () => {
    const pkg = JSON.parse(readFileSync(join(project, "node_modules/cognito-tenancy/package.json"), "utf8")) as { bin: Record<string, string> };
    const bin = join(project, "node_modules/cognito-tenancy", pkg.bin["cognito-tenancy"] as string);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(run("node", [bin, "--help"], project)).toContain("Usage: cognito-tenancy <command>");
    writeFileSync(
      join(project, "cli-token.mjs"),
      `import { createTestIssuer } from "cognito-tenancy/testing";\nconst i = await createTestIssuer();\nconsole.log(await i.idToken({ groups: ["tenant:acme"] }));\n`,
    );
    const token = run("node", ["cli-token.mjs"], project).trim();
    const out = execFileSync("node", [bin, "inspect", "--json"], { cwd: project, input: token, encoding: "utf8" });
    expect(JSON.parse(out)).toMatchObject({ verified: false, principal: { tenantId: "acme" } });
  }, 60_000);
});
