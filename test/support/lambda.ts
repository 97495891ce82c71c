// Shared by the Lambda adapter tests: AWS-shaped events from fixtures/events with test tokens
// injected, header edits that respect each event's maps, and a Lambda context.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Context } from "aws-lambda";

const root = resolve(import.meta.dirname, "../..");

/** Load `fixtures/events/<name>`, replacing every `{{TOKEN}}` with `token` (a fresh copy each call). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadEvent<T = any>(name: string, token = "no-token"): T {
  const text = readFileSync(join(root, "fixtures/events", name), "utf8");
  return JSON.parse(text.replaceAll("{{TOKEN}}", token)) as T;
}

type Maps = { headers?: Record<string, unknown> | null; multiValueHeaders?: Record<string, unknown> | null };

/**
 * Set (or with `undefined` remove) a header in whichever maps the event has, replacing any
 * spelling of the name. A list sets several values as AWS would pass them: in `multiValueHeaders`
 * as a list; in `headers` joined with commas for HTTP API 2.0, else the last value (REST's
 * `headers`, and ALB with multi-value headers off, keep only the last).
 */
export function setHeader<E>(event: E, name: string, value: string | string[] | undefined): E {
  const e = event as Maps;
  for (const map of [e.headers, e.multiValueHeaders]) {
    if (!map) continue;
    for (const key of Object.keys(map)) if (key.toLowerCase() === name.toLowerCase()) delete map[key];
  }
  if (value === undefined) return event;
  const list = Array.isArray(value) ? value : [value];
  const joined = (event as { version?: unknown }).version === "2.0";
  if (e.headers) e.headers[name] = joined ? list.join(",") : list[list.length - 1];
  if (e.multiValueHeaders) e.multiValueHeaders[name] = list;
  return event;
}

/** A fresh Lambda context (Middy writes to it). */
export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "orders",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:orders",
    memoryLimitInMB: "128",
    awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    logGroupName: "/aws/lambda/orders",
    logStreamName: "2026/11/26/[$LATEST]abcdef",
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The parsed JSON body of a response. */
export function bodyOf(response: unknown): unknown {
  return JSON.parse((response as { body: string }).body);
}
