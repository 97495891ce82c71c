/**
 * What an error carries into logs. aws-jwt-verify's errors quote the token (`iss`, `alg`, the whole
 * decoded header and payload); loggers write `err.cause` in full. An attacker must not get 90 KB of
 * their text, or a control character (forged log lines, terminal escapes), into every log line:
 * a refusal quotes at most a short, printable, marked excerpt.
 */
import { inspect } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TenantAuthError } from "../../src/index.js";
import type { JwksServer } from "../../src/testing/index.js";
import { authFor, createRawIssuer, expectRefused, json64 } from "../support/security.js";
import type { RawIssuer } from "../support/security.js";

let rs: RawIssuer;
const servers: JwksServer[] = [];
beforeAll(async () => {
  rs = await createRawIssuer("RS256");
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const FILLER = "A".repeat(50_000);
// NUL, ESC sequences, CR/LF (a forged log line), DEL, a C1 control, a bidi override.
const CONTROLS = "RS256\u0000\u001b[31m\r\nlevel=info msg=forged\u007f\u0085\u202e";
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u202e]/;

function expectShortAndClean(err: TenantAuthError): void {
  const cause = err.cause as Error | undefined;
  const seen = [err.message, String(cause), JSON.stringify(err), JSON.stringify(cause)].join(" | ");
  expect(seen.length).toBeLessThan(600);
  expect(seen).not.toMatch(CONTROL_CHARS);
  // The cause is a plain error: no chained cause, no properties holding the decoded token.
  if (cause !== undefined) {
    expect(cause.cause).toBeUndefined();
    expect(Object.keys(cause).filter((k) => k !== "name")).toEqual([]);
  }
  // What a logger prints (util.inspect follows causes and own properties).
  const printed = inspect(err, { depth: 10 });
  expect(printed).not.toContain(FILLER.slice(0, 100));
  expect(printed).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
}

describe("error causes hold no long or control-laden token text", () => {
  it("a signed token with a 50 KB iss (preloaded keys and a fetching pool)", async () => {
    const token = rs.signJson(rs.claims({ iss: `https://evil.example/${FILLER}` }));
    expectShortAndClean(await expectRefused(() => authFor(rs.issuer).resolveTenant(token), "token_invalid", 401));
    const server = await rs.issuer.listen();
    servers.push(server);
    expectShortAndClean(await expectRefused(() => authFor(rs.issuer, { userPools: [server.userPool] }).resolveTenant(token), "token_invalid", 401));
  });

  it("an unsigned token with a 50 KB iss and a 10 KB kid", async () => {
    const token = `${json64({ alg: "RS256", kid: FILLER.slice(0, 10_000) })}.${json64(rs.claims({ iss: FILLER }))}.c2ln`;
    expectShortAndClean(await expectRefused(() => authFor(rs.issuer).resolveTenant(token), "token_invalid", 401));
  });

  it("an alg laden with control characters, signed and unsigned", async () => {
    const signed = rs.signJson(rs.claims(), rs.header({ alg: CONTROLS }));
    expectShortAndClean(await expectRefused(() => authFor(rs.issuer).resolveTenant(signed), "token_invalid", 401));
    const unsigned = `${json64({ alg: `${CONTROLS}${FILLER}`, kid: rs.issuer.kid })}.${json64(rs.claims())}.c2ln`;
    expectShortAndClean(await expectRefused(() => authFor(rs.issuer).resolveTenant(unsigned), "token_invalid", 401));
  });

  it("a header that is not JSON (the parser's message quotes the input)", async () => {
    const token = `${Buffer.from(`{"alg":"${CONTROLS}${FILLER}`).toString("base64url")}.${json64(rs.claims())}.c2ln`;
    expectShortAndClean(await expectRefused(() => authFor(rs.issuer).resolveTenant(token), "token_invalid", 401));
  });

  it("an expired token with a long issuer-signed claim still gives a short cause", async () => {
    const token = rs.signJson(rs.claims({ exp: Math.floor(Date.now() / 1000) - 10, note: FILLER }));
    expectShortAndClean(await expectRefused(() => authFor(rs.issuer).resolveTenant(token), "token_expired", 401));
  });
});
