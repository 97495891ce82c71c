/**
 * Lambda cold start: what importing the core costs and what it pulls in.
 * - bundle: esbuild bundles src/index.ts minified with aws-jwt-verify external: the core's own bytes;
 *   its metafile lists every module the entry can load.
 * - import time: a child process imports the built entry (dist/index.js, built first when it is
 *   missing or older than src/) and reports how long the import took; median of several.
 *   Our own share is timed apart: a child first imports the aws-jwt-verify modules the core uses,
 *   then times importing our entry on top of them. A child that imports an empty module the same
 *   way gives the floor the loader costs for any file.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AWS_JWT_VERIFY, FORBIDDEN, bundleCore, bundleCreateTenantAuthOnly, packageOf } from "./core-bundle.js";
import { median } from "./measure.js";

const root = resolve(import.meta.dirname, "..");

/** Packages the core must never load. */
export interface ColdStartResult {
  coreMinBytes: number;
  coreMinGzipBytes: number;
  /** A handler bundled with esbuild that imports only createTenantAuth (tree-shaken). */
  createTenantAuthOnlyMinBytes: number;
  withAwsJwtVerifyMinBytes: number;
  /** Packages (node_modules) the core bundle reaches, aws-jwt-verify kept external. */
  externalPackages: string[];
  /** Builtins (node:*) the core imports. */
  builtins: string[];
  /** Forbidden packages found (must be empty). */
  forbidden: string[];
  importMs: number[];
  /** Importing our entry once aws-jwt-verify is loaded: the time that is ours. */
  ownImportMs: number[];
  /** Importing an empty module the same way: the loader's floor. */
  floorImportMs: number[];
  /** Importing the aws-jwt-verify modules the core uses, alone, in a fresh process. */
  awsImportMs: number[];
  /** Importing node:https alone, in a fresh process: aws-jwt-verify's Node build loads it at import. */
  httpsImportMs: number[];
  /** Our files the CJS entry loads (names under dist/). */
  ownFiles: string[];
  importSource: string;
  /** Packages require()d at runtime by the CJS entry, from require.cache. */
  loadedPackages: string[];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export async function runColdStart(samples: number): Promise<ColdStartResult> {
  const tmp = mkdtempSync(join(tmpdir(), "cognito-tenancy-bench-"));
  try {
    const core = await bundleCore(AWS_JWT_VERIFY);
    const coreText = core.outputFiles![0]!.contents;
    const { gzipSync } = await import("node:zlib");
    const all = await bundleCore([]);
    const only = await bundleCreateTenantAuthOnly();
    const inputs = Object.keys(all.metafile.inputs);
    const externalPackages = [...new Set(inputs.map(packageOf).filter((p): p is string => p !== undefined))].sort();
    const builtins = [
      ...new Set(
        Object.values(all.metafile.inputs)
          .flatMap((i) => i.imports)
          .filter((imp) => imp.external)
          .map((imp) => imp.path),
      ),
    ].sort();
    const forbidden = externalPackages.filter((p) => FORBIDDEN.some((re) => re.test(p)));

    // The import: what the package ships, dist/index.js and the shared core it imports. Built
    // first when missing or older than src/ (tsup, as npm run build does), so the figure is never
    // that of a stand-in with a different file layout.
    const dist = join(root, "dist/index.js");
    const cjsEntry = join(root, "dist/index.cjs");
    const fresh = existsSync(dist) && existsSync(cjsEntry) && statSync(dist).mtimeMs >= newestMtime(join(root, "src"));
    if (!fresh) {
      const built = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
      if (built.status !== 0) throw new Error(`npm run build failed: ${built.stdout}${built.stderr}`);
    }
    const entry = dist;
    const importSource = fresh ? "dist/index.js" : "dist/index.js, built for this run";
    const importMs: number[] = [];
    const ownImportMs: number[] = [];
    const floorImportMs: number[] = [];
    const empty = join(tmp, "empty.mjs");
    writeFileSync(empty, "export {};\n");
    const deps = ["aws-jwt-verify/jwt-verifier", "aws-jwt-verify/jwt", "aws-jwt-verify/jwk", "aws-jwt-verify/error", "node:buffer"];
    const timed = (file: string, preload: string[]) =>
      `${preload.map((d) => `await import(${JSON.stringify(d)});`).join(" ")} const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
    const child = (script: string): number => {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
      return Number(r.stdout.trim());
    };
    // Interleaved, so that a busy moment on the machine touches all three alike.
    // aws-jwt-verify's share, and node:https within it: every aws-jwt-verify module that verifies
    // (jwt, jwk, jwt-verifier) imports its Node compatibility layer, which imports its https
    // fetcher, which imports node:https. No subpath avoids it (checked with process.moduleLoadList).
    const timedSpecifiers = (specifiers: string[]) => `const t = performance.now(); ${specifiers.map((d) => `await import(${JSON.stringify(d)});`).join(" ")} console.log(performance.now() - t);`;
    const awsImportMs: number[] = [];
    const httpsImportMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      importMs.push(child(timed(entry, [])));
      ownImportMs.push(child(timed(entry, deps)));
      floorImportMs.push(child(timed(empty, deps)));
      awsImportMs.push(child(timedSpecifiers(deps)));
      httpsImportMs.push(child(timedSpecifiers(["node:https"])));
    }
    const listScript =
      `require(${JSON.stringify(cjsEntry)});` +
      `const pk = new Set(Object.keys(require.cache).map((p) => (/node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(p.replaceAll("\\\\", "/")) || [])[1]).filter(Boolean));` +
      `const own = Object.keys(require.cache).filter((p) => !p.includes("node_modules")).map((p) => p.split(/[\\\\/]/).pop());` +
      `console.log(JSON.stringify([[...pk].sort(), own.sort()]));`;
    const listed = spawnSync(process.execPath, ["-e", listScript], { cwd: root, encoding: "utf8" });
    if (listed.status !== 0) throw new Error(`require failed: ${listed.stderr}`);
    const [loadedPackages, ownFiles] = JSON.parse(listed.stdout.trim()) as [string[], string[]];
    return {
      coreMinBytes: coreText.byteLength,
      coreMinGzipBytes: gzipSync(coreText).byteLength,
      createTenantAuthOnlyMinBytes: only.outputFiles[0]!.contents.byteLength,
      withAwsJwtVerifyMinBytes: all.outputFiles![0]!.contents.byteLength,
      externalPackages,
      builtins,
      forbidden: [...forbidden, ...loadedPackages.filter((p) => FORBIDDEN.some((re) => re.test(p)))],
      importMs,
      ownImportMs,
      floorImportMs,
      awsImportMs,
      httpsImportMs,
      ownFiles,
      importSource,
      loadedPackages,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export { median };
