#!/usr/bin/env node
/**
 * The `cognito-tenancy` command (package.json `bin`). See `run` for the commands.
 * @packageDocumentation
 */
import { run } from "./run.js";

run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cognito-tenancy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
