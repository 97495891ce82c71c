// `npm run demo` is the README's second command and an end-to-end check: run it in both modes as a
// user would, and check that its own expectations can fail.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Case } from "../../demo/cases.js";
import { CASES } from "../../demo/cases.js";
import { runDemo } from "../../demo/demo.js";
import { SPAWN_TIMEOUT, root, runScript } from "../support/run-script.js";

/** The rows of the request table: the lines between its rule and the blank line after it. */
function tableRows(stdout: string): string[][] {
  const lines = stdout.split("\n");
  const header = lines.findIndex((l) => l.startsWith("case "));
  expect(header, "the request table is printed").toBeGreaterThan(0);
  const rows: string[][] = [];
  for (const line of lines.slice(header + 2)) {
    if (line.trim() === "") break;
    rows.push(line.split(/ {2,}/));
  }
  return rows;
}

/** The rows of the credentials table (requests served with AWS credentials). */
function credentialRows(stdout: string): string[][] {
  const lines = stdout.split("\n");
  const header = lines.findIndex((l) => l.startsWith("served request "));
  expect(header, "the credentials table is printed").toBeGreaterThan(0);
  const rows: string[][] = [];
  for (const line of lines.slice(header + 2)) {
    if (line.trim() === "") break;
    rows.push(line.split(/ {2,}/));
  }
  return rows;
}

/** Every served request carries its tenant's role, whose policy reads only the tenant's bucket. */
function checkCredentials(stdout: string): void {
  const served = CASES.filter((c) => c.expect.status === 200);
  const rows = credentialRows(stdout);
  expect(rows).toHaveLength(served.length);
  rows.forEach((row, i) => {
    const c = served[i]!;
    // served request, user, x-tenant-id, tenant, preferred role, credentials role, can read, check
    expect(row[0]).toBe(c.what);
    const tenant = row[3]!;
    expect(row[5]).toBe(`tenants/${tenant}-assets-reader`);
    expect(row[6]).toBe(`${tenant}-assets`);
    expect(c.object.startsWith(`${tenant}-assets/`)).toBe(true);
    expect(row[7]).toBe("ok");
  });
  // dave acting for acme: acme's role, although his preferred role is globex's.
  const dave = rows.find((r) => r[1] === "dave" && r[2] === "acme");
  expect(dave?.slice(3, 7)).toEqual(["acme", "tenants/globex-assets-reader", "tenants/acme-assets-reader", "acme-assets"]);
  expect(stdout).toContain(
    `${served.length} requests served, each with credentials for its tenant's role; identity pool (emulator): 4 GetId, 5 GetCredentialsForIdentity, 1 from the credentials cache`,
  );
}

function checkTable(stdout: string): void {
  const rows = tableRows(stdout);
  expect(rows).toHaveLength(CASES.length);
  rows.forEach((row, i) => {
    const c = CASES[i]!;
    // case, user, x-tenant-id, object, status, tenant, decision, reason, check
    expect(row[0]).toBe(c.what);
    expect(row[1]).toBe(c.user === undefined ? "-" : c.token === "access" ? `${c.user} (access)` : c.user);
    expect(row[2]).toBe(c.tenantHeader ?? "-");
    expect(row[3]).toBe(c.object);
    expect(row[4]).toBe(String(c.expect.status));
    expect(row[7]).toBe(c.expect.reason);
    expect(row[8]).toBe("ok");
  });
  for (const user of ["alice", "bob", "carol", "dave", "erin"]) expect(rows.some((r) => r[1]?.startsWith(user))).toBe(true);
  expect(new Set(rows.map((r) => r[4]))).toEqual(new Set(["200", "400", "401", "403"]));
  expect(stdout).toContain(`all ${CASES.length} requests as expected`);
  expect(stdout).not.toContain("\u001b["); // no colour codes when not a terminal
}

describe("npm run demo", () => {
  it.concurrent(
    "with local Cedar: exits 0 and prints every user and status",
    async () => {
      const run = await runScript("demo/run.ts");
      expect(run.stderr).not.toMatch(/error|warn/i);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      checkTable(run.stdout);
      expect(run.stdout).toMatch(/engine\s+local Cedar/);
      // The README shows this table: it must be what the demo prints.
      const readme = readFileSync(join(root, "README.md"), "utf8");
      const shown = /```text\n(case [\s\S]*?)\n```/.exec(readme)?.[1];
      expect(shown, "README.md shows the demo's table").toBeDefined();
      expect(run.stdout).toContain(shown);
      checkCredentials(run.stdout);
      const shownCredentials = /```text\n(IAM role [\s\S]*?)\n```/.exec(readme)?.[1];
      expect(shownCredentials, "README.md shows the demo's credentials tables").toBeDefined();
      expect(run.stdout).toContain(shownCredentials);
      const decided = CASES.filter((c) => !/^(token|tenant)_/.test(c.expect.reason)).length;
      expect(run.stdout).toContain(`; ${decided} policy decisions by local Cedar, in process`);
    },
    SPAWN_TIMEOUT,
  );

  it.concurrent(
    "with --verified-permissions: the SDK client against the emulator, same table",
    async () => {
      const run = await runScript("demo/run.ts", ["--verified-permissions"]);
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      checkTable(run.stdout);
      checkCredentials(run.stdout);
      expect(run.stdout).toMatch(/engine\s+Amazon Verified Permissions API: @aws-sdk\/client-verifiedpermissions -> emulator at http:\/\/127\.0\.0\.1:\d+/);
      // Every request that reached the policy engine went through the SDK to the emulator, or was
      // answered by the authorizer's decision cache (dave reads globex's plans twice, as globex).
      const decided = CASES.filter((c) => !/^(token|tenant)_/.test(c.expect.reason)).length;
      const summary = /; (\d+) policy decisions by Verified Permissions \(emulator\): (\d+) IsAuthorized(?:, (\d+) from the authorizer's decision cache)?\n/.exec(run.stdout);
      expect(summary, run.stdout).not.toBeNull();
      const [, decisions, calls, cached] = summary!.map(Number);
      expect(decisions).toBe(decided);
      expect(calls).toBeGreaterThan(0);
      expect(calls! + (cached || 0)).toBe(decided);
    },
    SPAWN_TIMEOUT,
  );

  it.concurrent(
    "with --policy-sync: local Cedar with the store's policies, same table, no authorization call",
    async () => {
      const run = await runScript("demo/run.ts", ["--policy-sync"]);
      expect(run.stderr).not.toMatch(/error/i);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      checkTable(run.stdout);
      checkCredentials(run.stdout);
      expect(run.stdout).toMatch(/engine\s+local Cedar \(in process\), policies synced from Verified Permissions/);
      const decided = CASES.filter((c) => !/^(token|tenant)_/.test(c.expect.reason)).length;
      expect(run.stdout).toMatch(new RegExp(`; ${decided} policy decisions by local Cedar synced from Verified Permissions \\(emulator\\): .*\\d+ ListPolicies.*; 0 authorization calls\n`));
    },
    SPAWN_TIMEOUT,
  );

  it.concurrent(
    "refuses an unknown option with exit code 2",
    async () => {
      const run = await runScript("demo/run.ts", ["--verfied-permissions"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("unknown option --verfied-permissions");
    },
    SPAWN_TIMEOUT,
  );

  it("reports a row whose outcome is not the expected one, and fails", async () => {
    let output = "";
    const out = new Writable({
      write(chunk, _encoding, callback) {
        output += String(chunk);
        callback();
      },
    });
    const wrong: Case[] = [
      CASES[0]!,
      // alice reading globex's bucket is refused: expecting a 200 must fail the demo.
      { what: "wrong on purpose", user: "alice", token: "id", object: "globex-assets/plans.txt", expect: { status: 200, reason: "globex-reads-own-bucket" } },
    ];
    await expect(runDemo({ out, cases: wrong })).resolves.toBe(false);
    const rows = tableRows(output);
    expect(rows[0]?.[8]).toBe("ok");
    expect(rows[1]?.slice(4)).toEqual(["403", "acme", "DENY", "active-tenant-only", "MISMATCH: expected 200 globex-reads-own-bucket"]);
    expect(output).toContain("1 of 2 requests NOT as expected");
  });
});
