// Interop with the AuthorizationEngine interface of @cedar-policy/cedar-authorization, both ways,
// on the seed's scenario: our local Cedar authorizer as an engine behind
// @cedar-policy/authorization-for-expressjs (which depends on cedar-authorization 0.1, the
// interface it calls), and Cedar's own CedarInlineAuthorizationEngine (0.2) as our Authorizer.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ExpressAuthorizationMiddleware } from "@cedar-policy/authorization-for-expressjs";
import type { AuthorizationEngine as CedarAuthorizationEngine } from "@cedar-policy/cedar-authorization";
import { CedarInlineAuthorizationEngine } from "@cedar-policy/cedar-authorization";
import express from "express";
import type { Request, Response } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import type { AuthorizationEngine, EngineEntity, EngineRequest } from "../../src/authorizers/cedar-authorization.js";
import { fromAuthorizationEngine, principalEntity, toAuthorizationEngine } from "../../src/authorizers/cedar-authorization.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import type { Authorizer, AuthorizationRequest, Decision } from "../../src/index.js";
import { authorizeOrThrow } from "../../src/core/guards.js";
import { refusal } from "../support/refusal.js";
import type { Caller, Scenario } from "../support/scenario.js";
import { NAMESPACE, POLICIES, SCHEMA, bucketOf, matrix, scenario } from "../support/scenario.js";

/** The middleware's configuration, typed by the cedar-authorization 0.1 copy it depends on. */
type ExpressAuthorizationMiddlewareConfig = ConstructorParameters<typeof ExpressAuthorizationMiddleware>[0];

const MAPPING = { namespace: NAMESPACE, tenantEntityType: "Tenant" };

// The schema the Express middleware routes by (its SimpleRest mapping: one namespace, an action
// per route, annotated with its verb and path). Our engine decides with its own policies and schema.
const ROUTING_SCHEMA = JSON.stringify({
  [NAMESPACE]: {
    annotations: { mappingType: "SimpleRest" },
    entityTypes: { User: {}, Application: {}, Tenant: {}, Bucket: { memberOfTypes: ["Tenant"] }, Object: { memberOfTypes: ["Bucket", "Tenant"] } },
    actions: {
      ReadObject: {
        annotations: { httpVerb: "get", httpPathTemplate: "/buckets/{bucket}/objects/{key}" },
        appliesTo: { principalTypes: ["User"], resourceTypes: ["Object"], context: { type: "Record", attributes: {} } },
      },
    },
  },
});

let world: Scenario;
let callers: Record<"alice" | "bob" | "dave", Caller>;
const cedar = createCedarAuthorizer({ policies: POLICIES, schema: SCHEMA, ...MAPPING });

beforeAll(async () => {
  world = await scenario();
  callers = {
    alice: await world.caller("alice", ["tenant:acme"]),
    bob: await world.caller("bob", ["tenant:globex"]),
    dave: await world.caller("dave", ["tenant:acme", "tenant:globex"], { tenantHint: "acme" }),
  };
});

/** The engine form of one of our requests, as the Express middleware builds it. */
function engineCall(request: AuthorizationRequest): [EngineRequest, EngineEntity[]] {
  const p = principalEntity(request.principal, MAPPING);
  const resource = request.resource;
  const resourceEntity: EngineEntity = {
    uid: { type: `${NAMESPACE}::${resource.type}`, id: resource.id },
    attrs: {},
    parents: (resource.parents ?? []).map((x) => ({ type: `${NAMESPACE}::${x.type}`, id: x.id })),
  };
  return [{ principal: p.uid, action: { type: `${NAMESPACE}::Action`, id: String(request.action) }, resource: resourceEntity.uid, context: {} }, [p, resourceEntity]];
}

describe("toAuthorizationEngine", () => {
  it("satisfies the interface of both installed versions of the package", () => {
    const engine = toAuthorizationEngine(cedar);
    const v02: CedarAuthorizationEngine = engine;
    const v01: ExpressAuthorizationMiddlewareConfig["authorizationEngine"] = engine;
    expect(v02).toBe(v01);
  });

  it("answers every request of the seed's matrix as the authorizer itself decides", async () => {
    const engine = toAuthorizationEngine(cedar);
    const rows = matrix(Object.values(callers));
    let allows = 0;
    for (const { label, request } of rows) {
      const decision = await cedar.isAuthorized(request);
      const answer = await engine.isAuthorized(...engineCall(request));
      expect(answer.type, label).toBe(decision.allowed ? "allow" : "deny");
      if (answer.type === "allow") {
        allows++;
        expect(answer.authorizerInfo.determiningPolicies).toEqual(decision.determiningPolicies);
      }
    }
    expect(allows).toBeGreaterThan(3);
  });

  it("never takes the principal from the entities: an entity not made by principalEntity() is an error, not a decision", async () => {
    const engine = toAuthorizationEngine(cedar);
    const [request, entities] = engineCall({
      principal: callers.alice.principal,
      action: "ReadObject",
      resource: { type: "Object", id: "acme-assets/x", parents: [{ type: "Bucket", id: "acme-assets" }] },
    });
    const forged = { ...entities[0]!, parents: [{ type: `${NAMESPACE}::UserGroup`, id: "us-east-1_TestPool|tenant:acme" }] };
    expect(await engine.isAuthorized(request, [forged, entities[1]!])).toEqual({ type: "error", message: "authorizer_unavailable: The request's principal is not a verified principal" });
  });

  it("fails closed: an authorizer that throws or answers nonsense is an error answer, never allow; onError hears why", async () => {
    const seen: unknown[] = [];
    const broken: Authorizer = { isAuthorized: async () => ({ allowed: true }) as unknown as Decision };
    const throwing: Authorizer = {
      isAuthorized: async () => {
        throw new Error("down");
      },
    };
    const request = engineCall({ principal: callers.alice.principal, action: "ReadObject", resource: { type: "Object", id: "acme-assets/x" } });
    expect(await toAuthorizationEngine(broken, { onError: (e) => seen.push(e) }).isAuthorized(...request)).toMatchObject({ type: "error" });
    expect(await toAuthorizationEngine(throwing, { onError: (e) => seen.push(e) }).isAuthorized(...request)).toEqual({
      type: "error",
      message: "authorizer_unavailable: The policy engine could not be reached",
    });
    expect(seen.map((e) => (e as Error).message)).toEqual(["The policy engine answered neither ALLOW nor DENY", "The policy engine could not be reached"]);
    expect(((seen[1] as Error).cause as Error).message).toBe("down");
    expect(() => toAuthorizationEngine({} as never)).toThrow(/isAuthorized/);
    expect(() => toAuthorizationEngine(cedar, { aut: {} } as never)).toThrow(/aut/);
  });
});

describe("@cedar-policy/authorization-for-expressjs with our engine, on the seed's scenario", () => {
  let server: Server;
  let base: string;
  const failing: Authorizer = {
    isAuthorized: async () => {
      throw new Error("engine down");
    },
  };

  beforeAll(async () => {
    const config = (engine: AuthorizationEngine, principalConfiguration: ExpressAuthorizationMiddlewareConfig["principalConfiguration"]) =>
      new ExpressAuthorizationMiddleware({ schema: { type: "jsonString", schema: ROUTING_SCHEMA }, authorizationEngine: engine, principalConfiguration });
    const custom = { type: "custom" as const, getPrincipalEntity: async (req: Request) => principalEntity(req.tenant!, MAPPING) };
    const withEntity = config(toAuthorizationEngine(cedar), custom);
    const withToken = config(toAuthorizationEngine(cedar, { auth: world.auth }), { type: "identityToken" });
    const broken = config(toAuthorizationEngine(failing), custom);
    const resourceProvider = async (req: Request) => {
      const bucket = String(req.params["bucket"]);
      const tenant = bucket.replace(/-assets$/, "");
      return {
        uid: { type: `${NAMESPACE}::Object`, id: `${bucket}/${String(req.params["key"])}` },
        attrs: {},
        parents: [
          { type: `${NAMESPACE}::Bucket`, id: bucket },
          { type: `${NAMESPACE}::Tenant`, id: tenant },
        ],
      };
    };
    const reply = (req: Request, res: Response) =>
      res.json({ tenantId: req.tenant?.tenantId ?? null, policies: (res.locals["authorizerInfo"] as { determiningPolicies?: string[] } | undefined)?.determiningPolicies });
    const app = express();
    app.get(
      "/entity/buckets/:bucket/objects/:key",
      tenantAuth(world.auth),
      withEntity.handlerSpecificMiddleware({ resourceProvider, actionProvider: () => ({ type: `${NAMESPACE}::Action`, id: "ReadObject" }) }),
      reply,
    );
    app.get("/token/buckets/:bucket/objects/:key", withToken.handlerSpecificMiddleware({ resourceProvider, actionProvider: () => ({ type: `${NAMESPACE}::Action`, id: "ReadObject" }) }), reply);
    app.get(
      "/broken/buckets/:bucket/objects/:key",
      tenantAuth(world.auth),
      broken.handlerSpecificMiddleware({ resourceProvider, actionProvider: () => ({ type: `${NAMESPACE}::Action`, id: "ReadObject" }) }),
      reply,
    );
    // Routed by the schema's own mapping (method and path), on the whole app.
    const routed = express();
    routed.use(tenantAuth(world.auth));
    routed.use(withEntity.middleware);
    routed.get("/buckets/:bucket/objects/:key", reply);
    app.use("/", routed);
    app.use(tenantAuthErrorHandler());
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const get = async (path: string, token: string, tenant?: string) => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, ...(tenant ? { "x-tenant-id": tenant } : {}) } });
    return { status: response.status, text: await response.text() };
  };

  it("the demo's reads: own bucket allowed (with the determining policy), another tenant's denied, the active tenant's forbid holds", async () => {
    const own = await get(`/entity/buckets/${bucketOf("acme")}/objects/roadmap.pdf`, callers.alice.token);
    expect(own.status).toBe(200);
    expect(JSON.parse(own.text)).toEqual({ tenantId: "acme", policies: ["acme-reads-own-bucket"] });
    // The middleware's own answer to a deny is 401 with a text body.
    expect(await get(`/entity/buckets/${bucketOf("globex")}/objects/plans.txt`, callers.alice.token)).toEqual({ status: 401, text: "Not authorized with explicit deny" });
    expect((await get(`/entity/buckets/${bucketOf("globex")}/objects/plans.txt`, callers.bob.token)).status).toBe(200);
    expect((await get(`/entity/buckets/${bucketOf("globex")}/objects/plans.txt`, callers.dave.token, "globex")).status).toBe(200);
    expect((await get(`/entity/buckets/${bucketOf("globex")}/objects/plans.txt`, callers.dave.token, "acme")).status).toBe(401);
  });

  it("a token principal (principalConfiguration identityToken) is verified by our resolver: a forged token is denied", async () => {
    expect((await get(`/token/buckets/${bucketOf("acme")}/objects/roadmap.pdf`, callers.alice.token)).status).toBe(200);
    expect((await get(`/token/buckets/${bucketOf("globex")}/objects/plans.txt`, callers.alice.token)).status).toBe(401);
    const forged = await world.issuer.idToken({ sub: "sub-mallory", groups: ["tenant:acme"], signWith: "foreign" });
    expect((await get(`/token/buckets/${bucketOf("acme")}/objects/roadmap.pdf`, forged)).status).toBe(401);
  });

  it("fail closed: a request the policies' schema cannot evaluate, and an engine failure, are the middleware's 500, never a pass", async () => {
    // Routed by the middleware's mapping, the resource is its default TenancyDemo::Application,
    // which the seed's schema does not declare: local Cedar cannot evaluate that request.
    expect(await get(`/buckets/${bucketOf("acme")}/objects/roadmap.pdf`, callers.alice.token)).toEqual({ status: 500, text: "Authorizer internal error" });
    expect(await get(`/broken/buckets/${bucketOf("acme")}/objects/roadmap.pdf`, callers.alice.token)).toEqual({ status: 500, text: "Authorizer internal error" });
  });
});

describe("fromAuthorizationEngine", () => {
  const inline = new CedarInlineAuthorizationEngine({ staticPolicies: POLICIES, schema: { type: "cedarFormat", schema: SCHEMA } });

  it("Cedar's CedarInlineAuthorizationEngine as our Authorizer decides the seed's matrix as local Cedar does", async () => {
    const authorizer = fromAuthorizationEngine(inline, MAPPING);
    for (const { label, request } of matrix(Object.values(callers))) {
      const ours = await cedar.isAuthorized(request);
      const theirs = await authorizer.isAuthorized(request);
      expect(theirs.decision, label).toBe(ours.decision);
    }
  });

  const request = (): AuthorizationRequest => ({ principal: callers.alice.principal, action: "ReadObject", resource: { type: "Object", id: "acme-assets/x" } });
  const engineAnswering = (answer: unknown): AuthorizationEngine => ({ isAuthorized: async () => answer as never });

  it.each([
    [
      "throws",
      {
        isAuthorized: async () => {
          throw new Error("down");
        },
      },
    ],
    [
      "throws synchronously",
      {
        isAuthorized: () => {
          throw new Error("down");
        },
      },
    ],
    ["answers error", engineAnswering({ type: "error", message: "policy store gone" })],
    ["answers allow without authorizerInfo", engineAnswering({ type: "allow" })],
    ["answers allow with policies that are not strings", engineAnswering({ type: "allow", authorizerInfo: { principalUid: { type: "x", id: "y" }, determiningPolicies: [1] } })],
    ["answers allow without saying for whom", engineAnswering({ type: "allow", authorizerInfo: { determiningPolicies: ["p1"] } })],
    ["answers allow for another principal", engineAnswering({ type: "allow", authorizerInfo: { principalUid: { type: `${NAMESPACE}::User`, id: "someone-else" }, determiningPolicies: [] } })],
    ["answers ALLOW in capitals", engineAnswering({ type: "ALLOW" })],
    ["answers true", engineAnswering(true)],
    ["answers nothing", engineAnswering(undefined)],
  ] as [string, AuthorizationEngine][])("an engine that %s is 503 authorizer_unavailable, never an allow", async (_name, engine) => {
    const err = await refusal(authorizeOrThrow(fromAuthorizationEngine(engine, MAPPING), request()));
    expect(err.code).toBe("authorizer_unavailable");
    expect(err.status).toBe(503);
    expect(err.cause).toBeDefined();
  });

  it("a deny is 403; setup mistakes are TypeErrors", async () => {
    expect((await refusal(authorizeOrThrow(fromAuthorizationEngine(engineAnswering({ type: "deny" }), MAPPING), request()))).status).toBe(403);
    expect(() => fromAuthorizationEngine({} as never, MAPPING)).toThrow(/isAuthorized/);
    expect(() => fromAuthorizationEngine(inline, {} as never)).toThrow(/namespace/);
    expect(() => fromAuthorizationEngine(inline, { ...MAPPING, entities: [{ uid: "x" }] })).toThrow(/entities/);
  });
});
