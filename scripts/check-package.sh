#!/usr/bin/env bash
# Package quality gates, run by .ci/run after the build: what the tarball holds, publint, and
# are-the-types-wrong under every resolution (node10 finds the subpaths through typesVersions).
set -euo pipefail
cd "$(dirname "$0")/.."

files=$(npm pack --dry-run --json --ignore-scripts | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    for (const f of JSON.parse(s)[0].files) console.log(f.path);
  });')
unexpected=$(printf '%s\n' "$files" | grep -Ev '^(dist/|docs/[^/]+\.md$|examples/|fixtures/((policies|events)/|README\.md$)|README\.md$|LICENSE$|NOTICE$|CHANGELOG\.md$|package\.json$)' || true)
if [ -n "$unexpected" ]; then
  echo "The tarball holds files it should not:"; printf '  %s\n' $unexpected; exit 1
fi
echo "tarball: $(printf '%s\n' "$files" | wc -l) files: dist/, the guides, examples, policy and event fixtures, README.md, LICENSE, NOTICE, CHANGELOG.md, package.json"

npx publint --strict
npx attw --pack .
