import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // Snippets and examples import the package by name, as a user would; in the suite that name
  // means the sources.
  resolve: {
    alias: [
      { find: /^cognito-tenancy$/, replacement: src("index.ts") },
      { find: /^cognito-tenancy\/testing$/, replacement: src("testing/index.ts") },
      { find: /^cognito-tenancy\/(express|fastify|hono|lambda|nestjs)$/, replacement: src("adapters/$1.ts") },
      { find: /^cognito-tenancy\/(cedar|cedar-authorization|verified-permissions)$/, replacement: src("authorizers/$1.ts") },
      { find: /^cognito-tenancy\/credentials$/, replacement: src("credentials/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
