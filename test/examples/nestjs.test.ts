// examples/nestjs runs with the one command its README gives (its tsconfig turns on decorators,
// which the repository's own does not), on both of Nest's platforms, and type-checks with it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { expect, it } from "vitest";
import { SPAWN_TIMEOUT, root, runScript } from "../support/run-script.js";

const CONFIG = "examples/nestjs/tsconfig.json";

it("its README gives the command that runs it", () => {
  const readme = readFileSync(join(root, "examples/nestjs/README.md"), "utf8");
  expect(readme).toContain(`\`\`\`bash\nnpx tsx --tsconfig ${CONFIG} examples/nestjs/main.ts\n\`\`\``);
});

it(
  "runs on the Express and the Fastify platform, prints its results, and exits 0",
  async () => {
    // runScript passes its arguments after the file; tsx's --tsconfig must come before it.
    const { code, stdout, stderr } = await runScript("--tsconfig", [CONFIG, "examples/nestjs/main.ts"]);
    expect(code, stdout + stderr).toBe(0);
    expect(stdout.match(/all 12 answers as expected/g)).toHaveLength(2);
    expect(stdout.split("\n").filter((l) => l.startsWith("!!"))).toEqual([]);
    expect(stdout).toMatch(/ok {2}403 {2}DELETE \/projects\/g1 .*"error":"access_denied"/);
    expect(stdout).toMatch(/ok {2}200 {2}GET \/health/);
  },
  SPAWN_TIMEOUT,
);

it("type-checks with its tsconfig", () => {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, CONFIG), {}, ts.sys as never)!;
  const program = ts.createProgram(config.fileNames, { ...config.options, noEmit: true });
  expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
}, 60_000);
