import { existsSync } from "node:fs";
import { resolve, sep } from "node:path";
import type { Plugin } from "esbuild";
import { defineConfig } from "tsup";

// One entry per subpath export. An entry whose source is not there yet is skipped, so the build
// grows with the package.json exports as adapters and authorizers land.
const entries: Record<string, string> = {
  index: "src/index.ts",
  testing: "src/testing/index.ts",
  express: "src/adapters/express.ts",
  fastify: "src/adapters/fastify.ts",
  hono: "src/adapters/hono.ts",
  lambda: "src/adapters/lambda.ts",
  nestjs: "src/adapters/nestjs.ts",
  "verified-permissions": "src/authorizers/verified-permissions.ts",
  cedar: "src/authorizers/cedar.ts",
  "cedar-authorization": "src/authorizers/cedar-authorization.ts",
  credentials: "src/credentials/index.ts",
};
const present = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)));
// Every output sits directly in dist/, so "./core.js" below is right from each of them.
for (const name of Object.keys(entries)) if (name.includes("/")) throw new Error(`entry ${name}: keep entries flat in dist/`);

const coreDir = resolve("src/core") + sep;

/**
 * All of src/core goes into one file, dist/core.js (and core.cjs), that every entry imports.
 * esbuild's splitting alone makes a chunk per combination of entries that share a module, and
 * the root entry then loaded nine files; each costs the loader time on a cold start (about 10 ms
 * in all under ESM, 4 ms under CJS, measured in docs/benchmarks.md). One shared file also keeps
 * the single TenantAuthError class and token memory that splitting gave.
 */
const sharedCore: Plugin = {
  name: "shared-core",
  setup(build) {
    // tsup builds CJS with splitting as ESM and converts it afterwards: only the extension tells.
    const file = build.initialOptions.outExtension?.[".js"] === ".cjs" ? "./core.cjs" : "./core.js";
    build.onResolve({ filter: /\/core\/(?:[\w-]+\/)*[\w-]+\.js$/ }, (args) => {
      if (args.importer.startsWith(coreDir)) return undefined;
      const target = resolve(args.resolveDir, args.path);
      return target.startsWith(coreDir) ? { path: file, external: true } : undefined;
    });
  },
};

export default defineConfig({
  // The command (package.json "bin") is an entry without types: nobody imports it.
  entry: { ...present, core: "src/core/index.ts", cli: "src/cli/main.ts" },
  format: ["esm", "cjs"],
  dts: { entry: present },
  clean: true,
  sourcemap: false,
  target: "node20",
  platform: "node",
  splitting: true,
  treeshake: true,
  outDir: "dist",
  esbuildPlugins: [sharedCore],
});
