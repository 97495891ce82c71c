#!/usr/bin/env node
// A clone of this repository must build and test on its own. In CI (and on the maintainers'
// machines) a folder named `shared` may sit beside the checkout; a user's clone never has it, so no
// tracked file may refer to it. Run by .ci/run before anything is installed; plain Node, no deps.
//
// A reference is either a relative path that climbs out of the repository into `shared`
// (resolved from the file that holds it), or a path naming that folder's contents. A folder of
// ours called shared (examples/shared/) is fine: it resolves inside the repository.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim();
const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter(Boolean);

const climbing = /(?:\.\.\/)+shared(?=[/"'`\s)]|$)/g;
// Written so that this file does not match itself.
const contents = new RegExp(["shared", "(corpora|seed|DESIGN\\.md|hooks)\\b"].join("\\/"), "g");

const findings = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(join(root, file), "utf8");
  } catch {
    continue;
  }
  if (text.includes("\0")) continue;
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    for (const match of line.matchAll(climbing)) {
      const target = resolve(root, dirname(file), match[0]);
      const inside = relative(root, target);
      if (inside.startsWith("..") || inside.startsWith(sep)) findings.push(`${file}:${i + 1}: ${match[0]} (outside the repository)`);
    }
    for (const match of line.matchAll(contents)) findings.push(`${file}:${i + 1}: ${match[0]}`);
  });
}

if (findings.length > 0) {
  console.error("These tracked files refer to the folder beside the repository, which a user's clone does not have:");
  for (const f of findings) console.error(`  ${f}`);
  console.error("Vendor what they need into the repository and refer to it there.");
  process.exit(1);
}
console.log(`self-contained: ${files.length} tracked files, none refers to a folder outside the repository`);
