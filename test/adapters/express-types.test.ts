// The adapter's types must serve users of @types/express 4 as well as 5: compile the same app
// (express-types.fixture.ts) with "express" resolving to each.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const fixture = join(root, "test/adapters/express-types.fixture.ts");

function diagnosticsWith(expressTypes: string | undefined): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, ts.sys as never)!;
  const paths = { ...config.options.paths, ...(expressTypes === undefined ? {} : { express: [expressTypes] }) };
  const program = ts.createProgram([fixture], { ...config.options, paths, noEmit: true });
  const express = program.getSourceFiles().find((f) => /@types[\\/]express4?[\\/]index\.d\.ts$/.test(f.fileName));
  return [
    `express types: ${express ? express.fileName.slice(express.fileName.indexOf("@types")) : "none"}`,
    ...ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`),
  ];
}

describe("Express adapter types", () => {
  it("compile with @types/express 5", () => {
    expect(diagnosticsWith(undefined)).toEqual(["express types: @types/express/index.d.ts"]);
  }, 60_000);

  it("compile with @types/express 4", () => {
    expect(diagnosticsWith("./node_modules/@types/express4/index.d.ts")).toEqual(["express types: @types/express4/index.d.ts"]);
  }, 60_000);

  it("import nothing from express at run time (express is an optional peer)", () => {
    const file = join(root, "src/adapters/express.ts");
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022);
    const fromExpress = source.statements.filter(ts.isImportDeclaration).filter((d) => /^express(\/|$)/.test((d.moduleSpecifier as ts.StringLiteral).text));
    expect(fromExpress.length).toBeGreaterThan(0);
    expect(fromExpress.map((d) => d.importClause?.isTypeOnly === true)).toEqual(fromExpress.map(() => true));
    expect(source.statements.filter(ts.isExportDeclaration).filter((d) => d.moduleSpecifier !== undefined)).toEqual([]);
  });
});
