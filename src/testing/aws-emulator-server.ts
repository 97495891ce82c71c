import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * How an emulator answers, to rehearse outages: `"error"` answers the service's internal error
 * (500), `"throttle"` its throttling error, `"hang"` never answers, `"ok"` serves the call.
 */
export type AwsEmulatorBehavior = "ok" | "error" | "throttle" | "hang";

/** @internal The plumbing the Cognito Identity and STS emulators share. */
export interface LoopbackServer {
  readonly endpoint: string;
  /** The behaviour the next call gets (and counts one of `times` down). */
  takeBehavior(): AwsEmulatorBehavior;
  setBehavior(behavior: AwsEmulatorBehavior, options?: { times?: number }): void;
  close(): Promise<void>;
}

const MAX_BODY = 256 * 1024;

/** @internal Listen on 127.0.0.1, port 0; `handle` gets the whole body (at most 256 KiB). */
export async function startLoopbackServer(handle: (req: IncomingMessage, body: string, res: ServerResponse) => Promise<void>): Promise<LoopbackServer> {
  let behavior: AwsEmulatorBehavior = "ok";
  let left = Infinity;
  const server = createServer((req, res) => {
    (async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY) {
          res.writeHead(413).end();
          return;
        }
        chunks.push(chunk);
      }
      await handle(req, Buffer.concat(chunks).toString("utf8"), res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    takeBehavior() {
      const current = behavior;
      if (current !== "ok" && --left <= 0) {
        behavior = "ok";
        left = Infinity;
      }
      return current;
    },
    setBehavior(next, o = {}) {
      behavior = next;
      left = next === "ok" ? Infinity : (o.times ?? Infinity);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** @internal A temporary access key id, `ASIA` + 16 characters, as AWS's look. */
export function temporaryAccessKeyId(): string {
  const bytes = randomBytes(16);
  let id = "ASIA";
  for (const b of bytes) id += KEY_ALPHABET[b % 32];
  return id;
}

/** @internal A random secret or session token. */
export function randomSecret(bytes: number): string {
  return randomBytes(bytes).toString("base64");
}

/**
 * What an emulator hands the AWS SDK client: its endpoint, a region and dummy credentials. A type,
 * not an interface, so it passes where a `clientConfig` record is taken.
 */
export type EmulatorClientConfig = {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
};

/** What the Cognito Identity and STS emulators have in common. */
export interface AwsCredentialsEmulator<Operation extends string> {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** For the SDK client, e.g. `new STSClient(emulator.clientConfig)`. */
  readonly clientConfig: EmulatorClientConfig;
  /** Calls received per operation (failed ones too). */
  readonly calls: Readonly<Record<Operation, number>>;
  readonly callCount: number;
  resetCalls(): void;
  /** Switch behaviour; with `times`, only for the next `times` calls. */
  setBehavior(behavior: AwsEmulatorBehavior, options?: { times?: number }): void;
  close(): Promise<void>;
}

/**
 * @internal What both credentials emulators return: `calls` is counted by the emulator, the total
 * is derived from it, and `issued` answers from the emulator's own record.
 */
export function credentialsEmulatorHandle<Operation extends string, Issued>(
  server: LoopbackServer,
  calls: Record<Operation, number>,
  issued: ReadonlyMap<string, Issued>,
): AwsCredentialsEmulator<Operation> & { issued(accessKeyId: string): Issued | undefined } {
  const endpoint = server.endpoint;
  const operations = Object.keys(calls) as Operation[];
  return {
    endpoint,
    get clientConfig() {
      return { endpoint, region: "us-east-1", credentials: { accessKeyId: "emulator", secretAccessKey: "emulator" } };
    },
    calls,
    get callCount() {
      return operations.reduce((n, op) => n + calls[op], 0);
    },
    resetCalls() {
      for (const op of operations) calls[op] = 0;
    },
    setBehavior: (b, o) => server.setBehavior(b, o),
    issued: (accessKeyId) => issued.get(accessKeyId),
    close: () => server.close(),
  };
}

/**
 * @internal An error as an emulated AWS service answers it: its type (the error code), HTTP status,
 * message, and any other members the service's error shape has.
 */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** @internal Answer in the AWS JSON protocol (`1.0` or `1.1`); `errorType` sets `x-amzn-errortype`. */
export function sendAwsJson(res: ServerResponse, protocol: "1.0" | "1.1", status: number, body: unknown, errorType?: string): void {
  const headers: Record<string, string> = { "content-type": `application/x-amz-json-${protocol}`, "x-amzn-requestid": randomUUID() };
  if (errorType) headers["x-amzn-errortype"] = errorType;
  res.writeHead(status, headers).end(JSON.stringify(body));
}

/** @internal An {@link AwsServiceError} in the AWS JSON protocol; `prefix` namespaces `__type` (`com.amazonaws.x#`). */
export function failAwsJson(res: ServerResponse, protocol: "1.0" | "1.1", err: AwsServiceError, prefix = ""): void {
  sendAwsJson(res, protocol, err.status, { __type: `${prefix}${err.type}`, message: err.message, ...err.extra }, err.type);
}

/**
 * @internal One AWS JSON protocol call after routing: the body must be a JSON object (else
 * `SerializationException`), `run` answers it; an {@link AwsServiceError} is answered as such,
 * anything else as the service's internal error (`internal`).
 */
export async function answerAwsJson(
  res: ServerResponse,
  raw: string,
  protocol: "1.0" | "1.1",
  run: (body: Record<string, unknown>) => Promise<unknown>,
  internal: (message: string) => AwsServiceError,
  prefix = "",
): Promise<void> {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw || "{}");
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TypeError("body must be a JSON object");
    body = parsed as Record<string, unknown>;
  } catch (err) {
    return failAwsJson(res, protocol, new AwsServiceError("SerializationException", 400, err instanceof Error ? err.message : String(err)), prefix);
  }
  try {
    sendAwsJson(res, protocol, 200, await run(body));
  } catch (err) {
    failAwsJson(res, protocol, err instanceof AwsServiceError ? err : internal(err instanceof Error ? err.message : String(err)), prefix);
  }
}
