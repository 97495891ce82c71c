// Every adapter hands the policy engine's answers to an onDecision listener (for audit logs).
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenantAuth } from "../../src/index.js";
import type { Authorizer, Decision, TenantAuth } from "../../src/index.js";
import { authorize, tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import { tenantAuthPlugin } from "../../src/adapters/fastify.js";
import { withTenant } from "../../src/adapters/lambda.js";
import { createTestIssuer } from "../../src/testing/index.js";
import type { TestIssuer } from "../../src/testing/index.js";
import { lambdaContext, loadEvent } from "../support/lambda.js";

// A real rule: a tenant may read its own documents (ids "<tenant>/...").
const ownDocuments: Authorizer = {
  async isAuthorized({ principal, resource }) {
    if (resource.id.startsWith(`${principal.tenantId}/`)) return { allowed: true, decision: "ALLOW", determiningPolicies: ["own-documents"], errors: [] };
    return { allowed: false, decision: "DENY", determiningPolicies: [], errors: [] };
  },
};

let issuer: TestIssuer;
let auth: TenantAuth;
let acme: string;
beforeAll(async () => {
  issuer = await createTestIssuer();
  auth = createTenantAuth({ userPools: [issuer.userPool] });
  acme = await issuer.idToken({ username: "alice", groups: ["tenant:acme"] });
});

const summary = (d: Decision) => `${d.decision}:${d.determiningPolicies.join(",")}`;

describe("Express authorize({ onDecision })", () => {
  const seen: string[] = [];
  let url: string;
  let close: () => void;
  beforeAll(async () => {
    const app = express();
    app.get(
      "/documents/*doc",
      tenantAuth(auth),
      authorize(ownDocuments, {
        action: "Read",
        resource: (req) => ({ type: "Document", id: req.path.slice("/documents/".length) }),
        onDecision: (d, req) => seen.push(`${summary(d)}@${req.tenant?.username}`),
      }),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    app.use(tenantAuthErrorHandler());
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it("reports the ALLOW and the DENY", async () => {
    const headers = { authorization: `Bearer ${acme}` };
    expect((await fetch(`${url}/documents/acme/a.pdf`, { headers })).status).toBe(200);
    expect((await fetch(`${url}/documents/globex/b.pdf`, { headers })).status).toBe(403);
    expect(seen).toEqual(["ALLOW:own-documents@alice", "DENY:@alice"]);
  });
});

describe("Fastify tenantAuthPlugin({ onDecision })", () => {
  it("reports the ALLOW and the DENY", async () => {
    const seen: string[] = [];
    const app = Fastify();
    await app.register(tenantAuthPlugin, { auth, authorizer: ownDocuments, onDecision: (d, request) => seen.push(`${summary(d)}@${request.tenant?.username}`) });
    app.get(
      "/documents/:tenant/:name",
      { config: { tenantAuth: { authorize: { action: "Read", resource: (r) => ({ type: "Document", id: `${(r.params as { tenant: string }).tenant}/x` }) } } } },
      async () => ({ ok: true }),
    );
    await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const headers = { authorization: `Bearer ${acme}` };
      expect((await fetch(`${url}/documents/acme/a.pdf`, { headers })).status).toBe(200);
      expect((await fetch(`${url}/documents/globex/b.pdf`, { headers })).status).toBe(403);
      expect(seen).toEqual(["ALLOW:own-documents@alice", "DENY:@alice"]);
    } finally {
      await app.close();
    }
  });
});

const pathOf = (event: unknown) => String((event as { rawPath?: string }).rawPath);

describe("Lambda withTenant({ onDecision })", () => {
  it("reports the ALLOW and the DENY", async () => {
    const seen: string[] = [];
    const handler = withTenant(auth, async () => ({ statusCode: 200, body: "ok" }), {
      authorizer: ownDocuments,
      action: "Read",
      resource: (event) => ({ type: "Document", id: pathOf(event).slice(1) }),
      onDecision: (d, event) => seen.push(`${summary(d)}@${pathOf(event)}`),
    });
    const event = (path: string) => ({ ...loadEvent("http-api-v2.json", acme), rawPath: path });
    expect(((await handler(event("/acme/a.pdf") as never, lambdaContext())) as { statusCode: number }).statusCode).toBe(200);
    expect(((await handler(event("/globex/b.pdf") as never, lambdaContext())) as { statusCode: number }).statusCode).toBe(403);
    expect(seen).toEqual(["ALLOW:own-documents@/acme/a.pdf", "DENY:@/globex/b.pdf"]);
  });
});
