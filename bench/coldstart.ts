/**
 * Lambda cold start: what importing the core costs and what it pulls in.
 * - bundle: esbuild bundles src/index.ts minified with aws-jwt-verify external: the core's own bytes;
 *   its metafile lists every module the entry can load.
 * - import time: a child process imports the built entry (dist/index.js when it is up to date,
 *   else an equivalent esbuild bundle) and reports how long the import took; median of several.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { median } from "./measure.js";

const root = resolve(import.meta.dirname, "..");

/** Packages the core must never load. */
export const FORBIDDEN = [/^@aws-sdk\//, /^@smithy\//, /^@cedar-policy\//, /^jose$/, /^express$/, /^fastify$/, /^@fastify\//, /^@middy\//];

export interface ColdStartResult {
  coreMinBytes: number;
  coreMinGzipBytes: number;
  withAwsJwtVerifyMinBytes: number;
  /** Packages (node_modules) the core bundle reaches, aws-jwt-verify kept external. */
  externalPackages: string[];
  /** Builtins (node:*) the core imports. */
  builtins: string[];
  /** Forbidden packages found (must be empty). */
  forbidden: string[];
  importMs: number[];
  importSource: string;
  /** Packages require()d at runtime by the CJS entry, from require.cache. */
  loadedPackages: string[];
}

function packageOf(path: string): string | undefined {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.replaceAll("\\", "/"));
  return m?.[1];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

async function bundle(format: "esm" | "cjs", outfile: string | undefined, external: string[], minify: boolean) {
  return build({
    entryPoints: [join(root, "src/index.ts")],
    bundle: true,
    format,
    platform: "node",
    target: "node20",
    minify,
    treeShaking: true,
    external,
    metafile: true,
    write: outfile !== undefined,
    ...(outfile === undefined ? { outdir: join(tmpdir(), "cognito-tenancy-bench-unused") } : { outfile }),
    logLevel: "silent",
  });
}

export async function runColdStart(samples: number): Promise<ColdStartResult> {
  const tmp = mkdtempSync(join(tmpdir(), "cognito-tenancy-bench-"));
  try {
    const core = await bundle("esm", undefined, ["aws-jwt-verify", "aws-jwt-verify/*"], true);
    const coreText = core.outputFiles![0]!.contents;
    const { gzipSync } = await import("node:zlib");
    const all = await bundle("esm", undefined, [], true);
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

    // The import: dist/index.js if it is newer than every source file, else an esbuild bundle
    // made the way tsup makes it (ESM, dependencies external).
    const dist = join(root, "dist/index.js");
    let entry: string;
    let cjsEntry: string;
    let importSource: string;
    if (existsSync(dist) && existsSync(join(root, "dist/index.cjs")) && statSync(dist).mtimeMs >= newestMtime(join(root, "src"))) {
      entry = dist;
      cjsEntry = join(root, "dist/index.cjs");
      importSource = "dist/index.js (npm run build)";
    } else {
      entry = join(root, "bench/.out-core.mjs");
      cjsEntry = join(root, "bench/.out-core.cjs");
      await bundle("esm", entry, ["aws-jwt-verify", "aws-jwt-verify/*"], false);
      await bundle("cjs", cjsEntry, ["aws-jwt-verify", "aws-jwt-verify/*"], false);
      importSource = "esbuild bundle of src/index.ts (dist missing or older than src)";
    }
    const importMs: number[] = [];
    const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(entry).href)}); console.log(performance.now() - t);`;
    for (let i = 0; i < samples; i++) {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
      importMs.push(Number(r.stdout.trim()));
    }
    const listScript =
      `require(${JSON.stringify(cjsEntry)});` +
      `const pk = new Set(Object.keys(require.cache).map((p) => (/node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(p.replaceAll("\\\\", "/")) || [])[1]).filter(Boolean));` +
      `console.log(JSON.stringify([...pk].sort()));`;
    const listed = spawnSync(process.execPath, ["-e", listScript], { cwd: root, encoding: "utf8" });
    if (listed.status !== 0) throw new Error(`require failed: ${listed.stderr}`);
    const loadedPackages = JSON.parse(listed.stdout.trim()) as string[];
    if (entry.includes(".out-core")) {
      rmSync(entry, { force: true });
      rmSync(cjsEntry, { force: true });
    }
    return {
      coreMinBytes: coreText.byteLength,
      coreMinGzipBytes: gzipSync(coreText).byteLength,
      withAwsJwtVerifyMinBytes: all.outputFiles![0]!.contents.byteLength,
      externalPackages,
      builtins,
      forbidden: [...forbidden, ...loadedPackages.filter((p) => FORBIDDEN.some((re) => re.test(p)))],
      importMs,
      importSource,
      loadedPackages,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export { median };
