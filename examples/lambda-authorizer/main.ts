// Run: npx tsx examples/lambda-authorizer/main.ts   (from the repository root; no AWS account needed)
//
// Invokes the authorizer of handler.ts with the API Gateway events in fixtures/events/ (a REST
// TOKEN and a REST REQUEST authorizer event), each carrying a token minted by the testing kit, and
// prints what API Gateway would receive: an Allow or Deny policy for the stage, or a thrown
// "Unauthorized" (API Gateway's 401). Exits 0 when every answer is the expected one, else 1.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { createTenantAuth } from "cognito-tenancy";
import { createTestIssuer } from "cognito-tenancy/testing";
import { ROLE_TENANTS, createHandler } from "./handler.js";

const events = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/events");

/** A fixture event with `{{TOKEN}}` replaced (and, for REQUEST events, the tenant header set). */
function event<E>(file: string, token: string, tenant?: string): E {
  const parsed = JSON.parse(readFileSync(join(events, file), "utf8").replaceAll("{{TOKEN}}", token)) as {
    headers?: Record<string, string>;
    multiValueHeaders?: Record<string, string[]>;
  };
  if (parsed.headers) {
    if (tenant === undefined) delete parsed.headers["X-Tenant-Id"];
    else parsed.headers["X-Tenant-Id"] = tenant;
  }
  if (parsed.multiValueHeaders) {
    if (tenant === undefined) delete parsed.multiValueHeaders["X-Tenant-Id"];
    else parsed.multiValueHeaders["X-Tenant-Id"] = [tenant];
  }
  return parsed as E;
}

// A stand-in for the user pool: real keys, Cognito-shaped tokens, keys preloaded (no network).
const issuer = await createTestIssuer();
const auth = createTenantAuth({ userPools: [issuer.userPool], tenants: { from: "groups", roleTenants: ROLE_TENANTS } });
const handler = createHandler(auth);

const [acmeRole, globexRole] = Object.keys(ROLE_TENANTS);
const alice = { username: "alice", groups: ["tenant:acme"], roles: [acmeRole!], preferredRole: acmeRole! };
const bob = { username: "bob", groups: ["tenant:globex"], roles: [globexRole!], preferredRole: globexRole! };
// In two tenants; globex's group has the higher precedence, so its role is the preferred one.
const dave = { username: "dave", groups: ["tenant:acme", "tenant:globex"], roles: [acmeRole!, globexRole!], preferredRole: globexRole! };
const erin = { username: "erin", groups: ["beta-testers"] };
const twoHoursAgo = Math.floor(Date.now() / 1000) - 7200;

interface Invocation {
  what: string;
  event: APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent;
  expect: "Allow" | "Deny" | "Unauthorized";
}

const TOKEN = "authorizer-rest-token.json";
const REQUEST = "authorizer-rest-request.json";
const invocations: Invocation[] = [
  { what: "TOKEN, alice (acme)", event: event(TOKEN, await issuer.idToken(alice)), expect: "Allow" },
  { what: "TOKEN, dave (acme + globex): his preferred role picks globex", event: event(TOKEN, await issuer.idToken(dave)), expect: "Allow" },
  { what: "REQUEST, dave, X-Tenant-Id: acme", event: event(REQUEST, await issuer.idToken(dave), "acme"), expect: "Allow" },
  { what: "REQUEST, bob (globex), X-Tenant-Id: acme", event: event(REQUEST, await issuer.idToken(bob), "acme"), expect: "Deny" },
  { what: "TOKEN, erin (in no tenant)", event: event(TOKEN, await issuer.idToken(erin)), expect: "Deny" },
  { what: "TOKEN, alice, expired", event: event(TOKEN, await issuer.idToken({ ...alice, issuedAt: twoHoursAgo })), expect: "Unauthorized" },
  { what: "TOKEN, alice, signed with a foreign key", event: event(TOKEN, await issuer.idToken({ ...alice, signWith: "foreign" })), expect: "Unauthorized" },
];

let unexpected = 0;
for (const { what, event, expect } of invocations) {
  let got: string;
  let shown: string;
  try {
    const result = await handler(event);
    got = result.policyDocument.Statement[0]!.Effect;
    shown = JSON.stringify(result, null, 2);
  } catch (err) {
    got = err instanceof Error ? err.message : String(err);
    shown = `throws Error(${JSON.stringify(got)})  -> API Gateway answers 401`;
  }
  const ok = got === expect;
  if (!ok) unexpected++;
  console.log(`${ok ? "ok" : "!!"}  ${what}: ${got}${ok ? "" : ` (expected ${expect})`}`);
  console.log(shown.replace(/^/gm, "    ") + "\n");
}
console.log(unexpected === 0 ? `all ${invocations.length} answers as expected` : `${unexpected} unexpected answers`);
process.exitCode = unexpected === 0 ? 0 : 1;
