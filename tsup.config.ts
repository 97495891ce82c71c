import { existsSync } from "node:fs";
import { defineConfig } from "tsup";

// One entry per subpath export. An entry whose source is not there yet is skipped, so the build
// grows with the package.json exports as adapters and authorizers land.
const entries: Record<string, string> = {
  index: "src/index.ts",
  "testing/index": "src/testing/index.ts",
  express: "src/adapters/express.ts",
  fastify: "src/adapters/fastify.ts",
  lambda: "src/adapters/lambda.ts",
  "verified-permissions": "src/authorizers/verified-permissions.ts",
  cedar: "src/authorizers/cedar.ts",
};

export default defineConfig({
  entry: Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file))),
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: false,
  target: "node20",
  platform: "node",
  splitting: true,
  treeshake: true,
  outDir: "dist",
});
