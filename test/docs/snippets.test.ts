// The guides cannot rot: every TypeScript/JavaScript block in README.md and docs/*.md must be
// preceded by `<!-- snippet: path/to/file.ts -->` and equal that file, and every snippet file
// must type-check against the real sources.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const docs = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const FENCE = /(<!--\s*snippet:\s*(\S+)\s*-->\s*\n)?```(ts|typescript|js|javascript|mjs|cjs)\n([\s\S]*?)```/g;

interface Block {
  doc: string;
  file: string | undefined;
  body: string;
}

function blocks(): Block[] {
  const out: Block[] = [];
  for (const doc of docs) {
    const text = readFileSync(join(root, doc), "utf8");
    for (const m of text.matchAll(FENCE)) out.push({ doc, file: m[2], body: m[4] ?? "" });
  }
  return out;
}

describe("documentation snippets", () => {
  const all = blocks();
  it("every code block names its source file", () => {
    const unmarked = all.filter((b) => b.file === undefined).map((b) => `${b.doc}: ${b.body.split("\n")[0]}`);
    expect(unmarked).toEqual([]);
  });

  it("every code block equals its source file", () => {
    const stale = all
      .filter((b) => b.file !== undefined)
      .filter((b) => !existsSync(join(root, b.file!)) || readFileSync(join(root, b.file!), "utf8").trim() !== b.body.trim())
      .map((b) => `${b.doc} → ${b.file}`);
    expect(stale).toEqual([]);
  });

  it("every snippet file type-checks", () => {
    const files = [...new Set(all.map((b) => b.file).filter((f): f is string => f !== undefined && /\.(ts|mts|cts)$/.test(f)))];
    if (files.length === 0) return;
    const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, ts.sys as never)!;
    const program = ts.createProgram(files.map((f) => join(root, f)), { ...config.options, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(diagnostics).toEqual([]);
  }, 60_000);
});
