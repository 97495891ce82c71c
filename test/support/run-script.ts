// Runs a repository script the way its README says (`npx tsx <file>`), from the repository root, with
// tsx's CLI run directly by this Node (npx would only find the same binary, more slowly).
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { resolve } from "node:path";

export const root = resolve(import.meta.dirname, "../..");
const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");

/** A generous bound for a test that starts a script (loaded machines, cold caches); scripts take seconds. */
export const SPAWN_TIMEOUT = 90_000;

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `tsx <file> ...args` in the repository root; never rejects, killed after `timeoutMs`. */
export function runScript(file: string, args: readonly string[] = [], timeoutMs = 60_000): Promise<ScriptResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [tsxCli, file, ...args],
      // A pipe, not a terminal: the output must be plain. NO_COLOR in case a parent forces colour.
      { cwd: root, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 8 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        done({ code, signal: (error?.signal as NodeJS.Signals | undefined) ?? null, stdout, stderr });
      },
    );
  });
}
