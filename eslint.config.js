// typescript-eslint's recommended rules (not the type-aware set: it needs the whole program per
// run, several times slower on this codebase) on every source, test, example, benchmark and script.
// The few settings below match deliberate habits of the codebase; each says why.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["dist/", "coverage/", "docs/api/", "test/vectors/", "fixtures/", ".tmp-pack-*/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a parameter a signature needs (Express's four-argument error
      // handler, a Fastify hook's reply) or a destructured key left out on purpose.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      // Matching control characters is the point where they appear (header values, log lines,
      // terminal output): they are refused or stripped there.
      "no-control-regex": "off",
      // `let x = fallback; try { x = await ... } finally { ... }` keeps the fallback visible.
      "no-useless-assignment": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    languageOptions: {
      globals: { console: "readonly", process: "readonly", URL: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly" },
    },
  },
  {
    // A snippet shows a value's shape by naming it on a line of its own.
    files: ["examples/snippets/**"],
    rules: { "@typescript-eslint/no-unused-expressions": "off" },
  },
);
