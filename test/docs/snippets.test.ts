// The guides cannot rot: every TypeScript/JavaScript block in README.md and docs/*.md must be
// preceded by `<!-- snippet: path/to/file.ts -->` and equal that file, and every snippet file
// must type-check against the real sources.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const docs = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
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
    // Each file with the tsconfig.json nearest to it, as an editor would: examples/nestjs has its
    // own, with the decorators Nest needs.
    const nearest = (file: string): string => {
      for (let dir = dirname(join(root, file)); dir.startsWith(root); dir = dirname(dir)) {
        if (existsSync(join(dir, "tsconfig.json"))) return join(dir, "tsconfig.json");
      }
      return join(root, "tsconfig.json");
    };
    const groups = new Map<string, string[]>();
    for (const f of files) groups.set(nearest(f), [...(groups.get(nearest(f)) ?? []), join(root, f)]);
    const diagnostics: string[] = [];
    // The programs share the sources they both read (the library, @types/node), parsed once.
    const parsed = new Map<string, ts.SourceFile | undefined>();
    for (const [configFile, group] of groups) {
      const config = ts.getParsedCommandLineOfConfigFile(configFile, {}, ts.sys as never)!;
      const options = { ...config.options, noEmit: true };
      const host = ts.createCompilerHost(options);
      const read = host.getSourceFile.bind(host);
      host.getSourceFile = (name, version, ...rest) => {
        const key = `${name}\0${JSON.stringify(version)}`;
        if (!parsed.has(key)) parsed.set(key, read(name, version, ...rest));
        return parsed.get(key);
      };
      const program = ts.createProgram(group, options, host);
      diagnostics.push(...ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")));
    }
    expect(diagnostics).toEqual([]);
  }, 120_000);
});
