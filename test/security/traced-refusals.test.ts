/**
 * With an OpenTelemetry SDK registered, isAuthorized() of both engines throws
 * synchronously for a malformed request (traceDecision reads request.action.id / resource.type
 * before the engine's own checks), where the untraced path returns a promise rejected with a typed
 * 503. The traced and plain paths must refuse alike.
 */
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTelemetry, tracing } from "../../src/core/telemetry.js";
import { createCedarAuthorizer } from "../../src/authorizers/cedar.js";
import type { AuthorizationRequest } from "../../src/core/authorizer.js";
import { NAMESPACE, POLICIES, SCHEMA, scenario } from "../support/scenario.js";

beforeAll(async () => {
  await startTelemetry();
});
afterAll(() => trace.disable());

describe("traced decision, malformed request", () => {
  it("rejects with authorizer_unavailable like the untraced path, never throws synchronously", async () => {
    const s = await scenario();
    const alice = await s.caller("alice", ["tenant:acme"]);
    const cedar = createCedarAuthorizer({ policies: POLICIES, schema: SCHEMA, namespace: NAMESPACE });
    await cedar.ready();
    const bad = { principal: alice.principal, action: null, resource: undefined } as unknown as AuthorizationRequest;

    expect(tracing.on).toBe(false);
    await expect(cedar.isAuthorized(bad)).rejects.toMatchObject({ code: "authorizer_unavailable" });

    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] }));
    expect(tracing.on).toBe(true);
    let answer: Promise<unknown> | undefined;
    expect(() => {
      answer = cedar.isAuthorized(bad);
    }).not.toThrow();
    await expect(answer).rejects.toMatchObject({ code: "authorizer_unavailable" });
  });
});
