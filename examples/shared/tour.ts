// The tour both API examples take: a few users of the project tracker call the app, and each
// answer is checked against the status it should have. Shared so that the Express and Fastify
// examples show the same requests and differ only in the framework code.
import type { TestIssuer } from "cognito-tenancy/testing";

/** Each tenant's projects. A real app would read them from a store, filtered by tenant. */
export interface Project {
  id: string;
  name: string;
}

export function sampleProjects(): Map<string, Project[]> {
  return new Map([
    [
      "acme",
      [
        { id: "a1", name: "Rocket skates" },
        { id: "a2", name: "Giant magnet" },
      ],
    ],
    ["globex", [{ id: "g1", name: "Doomsday device" }]],
    ["initech", [{ id: "i1", name: "TPS reports" }]],
  ]);
}

interface Call {
  method: "GET" | "DELETE";
  path: string;
  as?: "alice" | "bob" | "dave" | "expired";
  tenant?: string;
  expect: number;
}

const CALLS: Call[] = [
  { method: "GET", path: "/health", expect: 200 },
  { method: "GET", path: "/me", as: "alice", expect: 200 },
  { method: "GET", path: "/projects", as: "bob", expect: 200 },
  { method: "GET", path: "/projects", as: "dave", expect: 400 }, // two tenants, none chosen: tenant_ambiguous
  { method: "GET", path: "/projects", as: "dave", tenant: "globex", expect: 200 },
  { method: "GET", path: "/projects", as: "bob", tenant: "acme", expect: 403 }, // not his tenant: tenant_forbidden
  { method: "DELETE", path: "/projects/a2", as: "alice", expect: 200 }, // admin of acme
  { method: "DELETE", path: "/projects/g1", as: "bob", expect: 403 }, // not an admin: access_denied
  { method: "GET", path: "/beta/insights", as: "dave", tenant: "acme", expect: 200 },
  { method: "GET", path: "/beta/insights", as: "alice", expect: 403 }, // not a beta tester
  { method: "GET", path: "/me", as: "expired", expect: 401 }, // token_expired
  { method: "GET", path: "/me", expect: 401 }, // no token: token_missing
];

/** Call the app at `base` as each user, print every answer; true when all are as expected. */
export async function takeTour(base: string, issuer: TestIssuer): Promise<boolean> {
  // Users: tenants are Cognito groups `tenant:<id>`, roles in a tenant `tenant:<id>:<role>`.
  const tokens = {
    alice: await issuer.idToken({ username: "alice", groups: ["tenant:acme", "tenant:acme:admin"] }),
    bob: await issuer.idToken({ username: "bob", groups: ["tenant:globex"] }),
    dave: await issuer.idToken({ username: "dave", groups: ["tenant:acme", "tenant:globex", "beta-testers"] }),
    expired: await issuer.idToken({ username: "alice", groups: ["tenant:acme"], issuedAt: Math.floor(Date.now() / 1000) - 7200 }),
  };
  let unexpected = 0;
  for (const call of CALLS) {
    const headers: Record<string, string> = {};
    if (call.as) headers["authorization"] = `Bearer ${tokens[call.as]}`;
    if (call.tenant) headers["x-tenant-id"] = call.tenant;
    const res = await fetch(base + call.path, { method: call.method, headers, signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    const ok = res.status === call.expect;
    if (!ok) unexpected++;
    const who = `${call.as ?? "(no token)"}${call.tenant ? ` x-tenant-id: ${call.tenant}` : ""}`;
    console.log(`${ok ? "ok " : "!! "} ${res.status}  ${`${call.method} ${call.path}`.padEnd(22)} ${who.padEnd(28)} ${body}${ok ? "" : `   (expected ${call.expect})`}`);
  }
  console.log(unexpected === 0 ? `\nall ${CALLS.length} answers as expected` : `\n${unexpected} unexpected answers`);
  return unexpected === 0;
}
