// The dispatcher part alone: single calls, batches of one group, results matched on the request
// the service echoes, and fail-closed answers. A fake call records what would be sent.
import { describe, expect, it } from "vitest";
import { TenantAuthError } from "../../../src/core/errors.js";
import type { CedarEntity } from "../../../src/core/cedar/values.js";
import type { Operation } from "../../../src/authorizers/vp/client.js";
import type { BatchSettings, DispatchRequest } from "../../../src/authorizers/vp/dispatch.js";
import { createDispatcher, mentionedUids } from "../../../src/authorizers/vp/dispatch.js";

type Sent = { op: Operation; input: Record<string, unknown> };

/** A fake service: IsAuthorized answers ALLOW for resource "a*", DENY otherwise; batches echo each request. */
function service(answer?: (s: Sent) => unknown) {
  const sent: Sent[] = [];
  const decide = (item: Record<string, unknown>) => ((item["resource"] as { entityId: string }).entityId.startsWith("a") ? "ALLOW" : "DENY");
  const call = async (op: Operation, input: Record<string, unknown>) => {
    const s = { op, input };
    sent.push(s);
    if (answer) return answer(s);
    if (op.startsWith("Batch")) return { results: (input["requests"] as Record<string, unknown>[]).map((r) => ({ request: r, decision: decide(r) })) };
    return { decision: decide(input) };
  };
  return { sent, call };
}

function request(id: string, extra: Partial<DispatchRequest> = {}) {
  let settle!: (v: { result?: unknown; error?: unknown }) => void;
  const outcome = new Promise<{ result?: unknown; error?: unknown }>((r) => (settle = r));
  const item = { principal: { entityType: "NS::User", entityId: "p|alice" }, action: { actionType: "NS::Action", actionId: "Read" }, resource: { entityType: "NS::Object", entityId: id } };
  const req: DispatchRequest = {
    item,
    token: undefined,
    tokenUse: "id",
    entities: [],
    mentions: new Set(),
    deadline: Date.now() + 60_000,
    resolve: (result) => settle({ result }),
    reject: (error) => settle({ error }),
    ...extra,
  };
  return { req, outcome };
}

const decisions = async (outcomes: Promise<{ result?: unknown; error?: unknown }>[]) =>
  (await Promise.all(outcomes)).map((o) => (o.error ? (o.error as TenantAuthError).code : (o.result as { decision: string }).decision));

const BATCH: BatchSettings = { windowMs: 0, maxSize: 30, minSize: 2 };

describe("createDispatcher", () => {
  it("without batching: one IsAuthorized per request, with its own entities", async () => {
    const s = service();
    const d = createDispatcher({ policyStoreId: "ps", call: s.call });
    const group: CedarEntity = { uid: { type: "NS::UserGroup", id: "p|admins" }, attrs: {}, parents: [] };
    const a = request("a1", { entities: [group] });
    const b = request("b1");
    d.dispatch("g", a.req);
    d.dispatch("g", b.req);
    expect(await decisions([a.outcome, b.outcome])).toEqual(["ALLOW", "DENY"]);
    expect(s.sent.map((x) => x.op)).toEqual(["IsAuthorized", "IsAuthorized"]);
    expect(s.sent[0]!.input).toMatchObject({ policyStoreId: "ps", entities: { entityList: [{ identifier: { entityType: "NS::UserGroup", entityId: "p|admins" } }] } });
    expect(s.sent[1]!.input["entities"]).toBeUndefined();
  });

  it("with a token: IsAuthorizedWithToken, the token under identityToken or accessToken", async () => {
    const s = service();
    const d = createDispatcher({ policyStoreId: "ps", call: s.call });
    const id = request("a1", { token: "id.jwt.sig", tokenUse: "id" });
    const access = request("a2", { token: "ac.jwt.sig", tokenUse: "access" });
    d.dispatch("t1", id.req);
    d.dispatch("t2", access.req);
    await Promise.all([id.outcome, access.outcome]);
    expect(s.sent.map((x) => x.op)).toEqual(["IsAuthorizedWithToken", "IsAuthorizedWithToken"]);
    expect(s.sent[0]!.input["identityToken"]).toBe("id.jwt.sig");
    expect(s.sent[1]!.input["accessToken"]).toBe("ac.jwt.sig");
  });

  it("batching: requests of one group in the same turn go as one batch; other groups never join it", async () => {
    const s = service();
    const d = createDispatcher({ policyStoreId: "ps", call: s.call, batch: BATCH });
    const rs = ["a1", "b1", "a2"].map((id) => request(id));
    for (const r of rs) d.dispatch("alice", r.req);
    const other = request("a3");
    d.dispatch("bob", other.req);
    expect(await decisions(rs.map((r) => r.outcome))).toEqual(["ALLOW", "DENY", "ALLOW"]);
    await other.outcome;
    expect(s.sent.map((x) => x.op).sort()).toEqual(["BatchIsAuthorized", "IsAuthorized"]);
    expect((s.sent.find((x) => x.op === "BatchIsAuthorized")!.input["requests"] as unknown[]).length).toBe(3);
  });

  it("a group smaller than minSize goes as single calls; a full group (maxSize) goes at once", async () => {
    const s = service();
    const d = createDispatcher({ policyStoreId: "ps", call: s.call, batch: { windowMs: 0, maxSize: 2, minSize: 2 } });
    const rs = ["a1", "a2", "a3"].map((id) => request(id));
    for (const r of rs) d.dispatch("alice", r.req);
    await Promise.all(rs.map((r) => r.outcome));
    expect(s.sent.map((x) => x.op).sort()).toEqual(["BatchIsAuthorized", "IsAuthorized"]);
  });

  it("results are matched on the echoed request, not on their position", async () => {
    const s = service((x) => {
      const reqs = x.input["requests"] as { resource: { entityId: string } }[];
      return { results: [...reqs].reverse().map((r) => ({ request: r, decision: r.resource.entityId === "a1" ? "ALLOW" : "DENY" })) };
    });
    const d = createDispatcher({ policyStoreId: "ps", call: s.call, batch: BATCH });
    const rs = ["a1", "b1"].map((id) => request(id));
    for (const r of rs) d.dispatch("alice", r.req);
    expect(await decisions(rs.map((r) => r.outcome))).toEqual(["ALLOW", "DENY"]);
  });

  it("a request no result lines up with, or a batch with the wrong number of results: authorizer_unavailable", async () => {
    const unmatched = service((x) => ({ results: (x.input["requests"] as unknown[]).map(() => ({ request: { action: "other" }, decision: "ALLOW" })) }));
    const d1 = createDispatcher({ policyStoreId: "ps", call: unmatched.call, batch: BATCH });
    const rs1 = ["a1", "a2"].map((id) => request(id));
    for (const r of rs1) d1.dispatch("alice", r.req);
    expect(await decisions(rs1.map((r) => r.outcome))).toEqual(["authorizer_unavailable", "authorizer_unavailable"]);

    const short = service((x) => ({ results: [{ request: (x.input["requests"] as unknown[])[0], decision: "ALLOW" }] }));
    const d2 = createDispatcher({ policyStoreId: "ps", call: short.call, batch: BATCH });
    const rs2 = ["a1", "a2"].map((id) => request(id));
    for (const r of rs2) d2.dispatch("alice", r.req);
    expect(await decisions(rs2.map((r) => r.outcome))).toEqual(["authorizer_unavailable", "authorizer_unavailable"]);
  });

  it("a call that fails with anything: every request it carried gets authorizer_unavailable, the error (when there is one) as cause", async () => {
    for (const thrown of [new Error("ECONNRESET"), undefined, null, "boom"]) {
      const d = createDispatcher({
        policyStoreId: "ps",
        call: () => Promise.reject(thrown),
        batch: BATCH,
      });
      const rs = ["a1", "a2"].map((id) => request(id));
      for (const r of rs) d.dispatch("alice", r.req);
      const outcomes = await Promise.all(rs.map((r) => r.outcome));
      for (const o of outcomes) {
        expect(o.error).toBeInstanceOf(TenantAuthError);
        expect((o.error as TenantAuthError).code).toBe("authorizer_unavailable");
        if (thrown != null) expect((o.error as Error).cause).toBe(thrown);
        else expect(String((o.error as Error).cause)).toContain("could not decide");
      }
    }
  });

  it("two descriptions of one uid never share a call", async () => {
    const s = service();
    const d = createDispatcher({ policyStoreId: "ps", call: s.call, batch: BATCH });
    const folder = (owner: string): CedarEntity => ({ uid: { type: "NS::Folder", id: "f" }, attrs: { owner }, parents: [] });
    const a = request("a1", { entities: [folder("alice")], mentions: new Set(["NS::Folder\u0000f"]) });
    const b = request("a2", { entities: [folder("bob")], mentions: new Set(["NS::Folder\u0000f"]) });
    d.dispatch("alice", a.req);
    d.dispatch("alice", b.req);
    await Promise.all([a.outcome, b.outcome]);
    expect(s.sent.map((x) => x.op)).toEqual(["IsAuthorized", "IsAuthorized"]);
    expect(s.sent.map((x) => (x.input["entities"] as { entityList: { attributes: unknown }[] }).entityList[0]!.attributes)).toEqual([{ owner: { string: "alice" } }, { owner: { string: "bob" } }]);
  });
});

describe("mentionedUids", () => {
  it("the resource, every parent, and entity references in attributes and context", () => {
    const entities: CedarEntity[] = [
      { uid: { type: "T", id: "1" }, attrs: { owner: { __entity: { type: "U", id: "o" } }, list: [{ __entity: { type: "U", id: "p" } }] }, parents: [{ type: "F", id: "f" }] },
    ];
    const got = mentionedUids({ type: "R", id: "r" }, entities, { nested: { who: { __entity: { type: "U", id: "c" } } } });
    expect([...got].sort()).toEqual(["F\u0000f", "R\u0000r", "U\u0000c", "U\u0000o", "U\u0000p"]);
  });
});
