/**
 * The core as a bundler sees it. Shared by the bench's cold-start figures and by
 * test/core/light-entry.test.ts, so the bench reports exactly what the test guards.
 */
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");

/** Packages the core must never load. */
export const FORBIDDEN = [/^@aws-sdk\//, /^@smithy\//, /^@cedar-policy\//, /^jose$/, /^express$/, /^fastify$/, /^@fastify\//, /^@middy\//, /^hono$/, /^@hono\//];

/** The package a bundled input path belongs to, if it is under node_modules. */
export function packageOf(path: string): string | undefined {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.replaceAll("\\", "/"))?.[1];
}

/** Our only runtime dependency, left out when counting the core's own bytes. */
export const AWS_JWT_VERIFY = ["aws-jwt-verify", "aws-jwt-verify/*"];

const options = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  write: false,
  logLevel: "silent",
} as const;

/** src/index.ts bundled and minified with `external` left out; its metafile lists every input. */
export function bundleCore(external: string[]) {
  return build({
    ...options,
    entryPoints: [resolve(root, "src/index.ts")],
    external,
    metafile: true,
    outdir: resolve(tmpdir(), "cognito-tenancy-core-bundle"),
  });
}

/** A handler that imports only `createTenantAuth`, aws-jwt-verify external: what tree-shaking keeps. */
export function bundleCreateTenantAuthOnly() {
  return build({
    ...options,
    stdin: { contents: 'export { createTenantAuth } from "./src/index.ts";', resolveDir: root, loader: "ts" },
    external: AWS_JWT_VERIFY,
  });
}
