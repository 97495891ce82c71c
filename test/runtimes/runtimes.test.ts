// The Hono suite on Node, Node with Web Crypto, Bun, Deno and workerd, run by the same driver as
// `npm run test:runtimes` (scripts/test-runtimes.ts): one app, one list of assertions, every runtime.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const RUNTIMES = ["node", "node-webcrypto", "bun", "deno", "workerd"];

interface Result {
  runtime: string;
  passed: number;
  failures: string[];
}

let results: Result[] = [];
let output = "";

beforeAll(async () => {
  output = await new Promise<string>((done) => {
    execFile(
      process.execPath,
      [resolve(root, "node_modules/tsx/dist/cli.mjs"), "scripts/test-runtimes.ts", "--json"],
      { cwd: root, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
      (_err, stdout, stderr) => done(`${stdout}\n${stderr}`),
    );
  });
  const line = output.split("\n").find((l) => l.startsWith("[{"));
  results = line === undefined ? [] : (JSON.parse(line) as Result[]);
}, 660_000);

describe("the Hono app on every runtime", () => {
  it.each(RUNTIMES)("%s gives every expected answer", (name) => {
    const result = results.find((r) => r.runtime === name);
    expect(result, output).toBeDefined();
    expect(result!.failures).toEqual([]);
    expect(result!.passed).toBeGreaterThanOrEqual(26);
  });
});
