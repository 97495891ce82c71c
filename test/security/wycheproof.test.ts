/**
 * Project Wycheproof's JSON Web Signature vectors (Apache-2.0), run through the public API.
 *
 * Each vector goes to `resolveTenant` against a pool whose `jwks` is the vector group's public key
 * (for groups that only give a secret `oct` key, that key itself: the misconfiguration an HS256
 * confusion attack hopes for; if the pool refuses such a key at configuration time, an unrelated
 * RSA key). The pool has one issuer, so aws-jwt-verify checks the signature before anything else.
 *
 * Every vector must be refused with a typed 4xx TenantAuthError: the "invalid" ones because they
 * are invalid JWS, the "valid" ones because they are not Cognito tokens (no iss, exp, token_use).
 * None may be accepted; none may be a 5xx.
 *
 * The vectors are vendored in test/vectors/wycheproof/ (with their licence), so a fresh clone runs them.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TenantAuthError, createTenantAuth } from "../../src/index.js";
import type { TenantAuth } from "../../src/index.js";

const corpusUrl = new URL("../vectors/wycheproof/json_web_signature_test.json", import.meta.url);

interface Vector {
  tcId: number;
  comment: string;
  jws: string;
  result: "valid" | "invalid" | "acceptable";
  flags: string[];
}
interface Group {
  comment?: string;
  public?: Record<string, unknown>;
  private?: Record<string, unknown>;
  tests: Vector[];
}

const FALLBACK_RSA = {
  kty: "RSA",
  kid: "wycheproof-fallback",
  alg: "RS256",
  use: "sig",
  e: "AQAB",
  n: "orRRoH0KpfluRVZxUTVQUUqKW0YuvvcXCU-h_ugiJOY3-XRtP3yv0xh42AMltu9aFwD2WQO0aUKeidbqyIRQl7WrOTGJ25JRLtincRoSU_rNIPecFegkfz0-QuRuSMmOJUov6XZTE6A-_48X4aApOXofomqNzib0kO2BKZYV2YFMItphBCjgnH2WWFlCZvXAIdD87KCNlFoSvoLeTR7Oa0wDFFtdNJXU7VQR64eNrwX9evw-Ca2g8RJkIvWQl1oZaYFvSGmLy7obTZyuedRg2Pn4Xnl1AF2bwixOWsD3waRdElaaYoB9O5oC5aUw53MGb0U9H1tMLpz3ggKD90K51Q",
};

function authForGroup(group: Group, index: number): { auth: TenantAuth; key: string } {
  const pool = (keys: object[]) => ({
    userPoolId: `wycheproof_${index}`,
    issuer: `https://wycheproof.test/group-${index}`,
    clientId: null,
    tokenUse: null,
    jwks: { keys },
  });
  const key = group.public ?? group.private;
  if (key) {
    try {
      return { auth: createTenantAuth({ userPools: [pool([key])], cache: false }), key: group.public ? "public" : "secret (oct)" };
    } catch (err) {
      if (!(err instanceof Error)) throw err;
    }
  }
  return { auth: createTenantAuth({ userPools: [pool([FALLBACK_RSA])], cache: false }), key: "fallback RSA (group key refused at configuration)" };
}

function reasonOf(err: TenantAuthError): string {
  const cause = err.cause instanceof Error ? err.cause.constructor.name : "";
  return `${err.code}: ${err.message}${cause ? ` (${cause})` : ""}`;
}

const corpus = JSON.parse(readFileSync(corpusUrl, "utf8")) as { numberOfTests: number; testGroups: Group[] };

describe("Wycheproof JSON Web Signature vectors through resolveTenant", () => {
  it("refuses every vector, typed and 4xx; none accepted, none 5xx", async () => {
    const tally = { total: 0, invalid: 0, valid: 0, acceptable: 0, accepted: 0, untyped: 0, serverError: 0 };
    const byReason = new Map<string, { invalid: number; valid: number; acceptable: number }>();
    const keys = new Map<string, number>();
    const failures: string[] = [];

    for (const [index, group] of corpus.testGroups.entries()) {
      const { auth, key } = authForGroup(group, index);
      keys.set(key, (keys.get(key) ?? 0) + 1);
      for (const vector of group.tests) {
        tally.total++;
        tally[vector.result]++;
        let outcome: unknown;
        let resolved = false;
        try {
          outcome = await auth.resolveTenant(vector.jws);
          resolved = true;
        } catch (err) {
          outcome = err;
        }
        const label = `tcId ${vector.tcId} (${group.comment ?? "?"}, ${vector.comment}, ${vector.result})`;
        if (resolved) {
          tally.accepted++;
          failures.push(`${label}: ACCEPTED`);
          continue;
        }
        if (!(outcome instanceof TenantAuthError)) {
          tally.untyped++;
          failures.push(`${label}: threw ${String(outcome)}`);
          continue;
        }
        if (outcome.status >= 500) {
          tally.serverError++;
          failures.push(`${label}: ${outcome.status} ${outcome.code}`);
          continue;
        }
        if (outcome.status < 400) failures.push(`${label}: status ${outcome.status}`);
        const reason = reasonOf(outcome);
        const row = byReason.get(reason) ?? { invalid: 0, valid: 0, acceptable: 0 };
        row[vector.result]++;
        byReason.set(reason, row);
      }
    }

    const lines = [...byReason]
      .sort((a, b) => b[1].invalid + b[1].valid - (a[1].invalid + a[1].valid))
      .map(([r, c]) => `  ${String(c.invalid).padStart(4)} invalid ${String(c.valid).padStart(4)} valid  ${r}`);
    console.log(
      [
        `Wycheproof JWS: ${tally.total} vectors (${tally.invalid} invalid, ${tally.valid} valid, ${tally.acceptable} acceptable) in ${corpus.testGroups.length} groups`,
        `  accepted: ${tally.accepted}, untyped: ${tally.untyped}, 5xx: ${tally.serverError}`,
        `  keys: ${[...keys].map(([k, n]) => `${n} groups ${k}`).join("; ")}`,
        "  refusals by reason:",
        ...lines,
      ].join("\n"),
    );

    expect(failures).toEqual([]);
    expect(tally.total).toBe(corpus.numberOfTests);
    expect(tally.accepted).toBe(0);
    expect(tally.invalid + tally.valid + tally.acceptable).toBe(tally.total);
  });
});
