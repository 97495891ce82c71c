/**
 * The Verified Permissions client as the authorizer uses it: one call, with the deadline of the
 * decisions it carries, retrying what the service model marks retryable. The SDK is imported only
 * when no client is given, on first use.
 */
import { unavailable, field } from "./errors.js";

/**
 * The client: a `VerifiedPermissionsClient` from `@aws-sdk/client-verifiedpermissions` (anything
 * with `send(command, { abortSignal })`), or the aggregated `VerifiedPermissions` class.
 */
export type VerifiedPermissionsClientLike =
  | { send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> }
  | {
      isAuthorized(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      batchIsAuthorized(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      isAuthorizedWithToken(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      batchIsAuthorizedWithToken(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      /** With these three, `ready()` (or the first decision) reads the store and its identity source. */
      getPolicyStore?(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      listIdentitySources?(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
      getIdentitySource?(input: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
    };

/** The decision operations. */
export type Operation = "IsAuthorized" | "BatchIsAuthorized" | "IsAuthorizedWithToken" | "BatchIsAuthorizedWithToken";

/** One service call that gives up at `deadline` (epoch ms). */
export type VpCall = (op: Operation, input: Record<string, unknown>, deadline: number) => Promise<unknown>;

export type SdkModule = typeof import("@aws-sdk/client-verifiedpermissions");

let sdk: Promise<SdkModule> | undefined;
/** The optional peer `@aws-sdk/client-verifiedpermissions`, imported once; a failed import is tried again. */
export function loadSdk(): Promise<SdkModule> {
  sdk ??= import("@aws-sdk/client-verifiedpermissions").catch((err: unknown) => {
    sdk = undefined;
    throw new Error("cognito-tenancy: Verified Permissions needs the optional peer dependency @aws-sdk/client-verifiedpermissions, or pass `client`", { cause: err });
  });
  return sdk;
}

const METHOD: Record<Operation, "isAuthorized" | "batchIsAuthorized" | "isAuthorizedWithToken" | "batchIsAuthorizedWithToken"> = {
  IsAuthorized: "isAuthorized",
  BatchIsAuthorized: "batchIsAuthorized",
  IsAuthorizedWithToken: "isAuthorizedWithToken",
  BatchIsAuthorizedWithToken: "batchIsAuthorizedWithToken",
};

/**
 * What the service model marks retryable (`ThrottlingException`, `InternalServerException`; the SDK
 * sets `$retryable` on both), and HTTP 429.
 */
export function isRetryable(err: unknown): boolean {
  const name = field(err, "name");
  if (name === "ThrottlingException" || name === "InternalServerException") return true;
  const retryable = field(err, "$retryable");
  if (typeof retryable === "object" && retryable !== null) return true;
  return field(field(err, "$metadata"), "httpStatusCode") === 429;
}

/** Options of {@link createVpClient}. */
export interface VpClientOptions {
  /** The caller's client; without it one is made from the SDK with `region` and `clientConfig`. */
  readonly client?: VerifiedPermissionsClientLike | undefined;
  readonly region?: string | undefined;
  readonly clientConfig?: Readonly<Record<string, unknown>> | undefined;
  /** Attempts of a retryable error, the first included. */
  readonly maxAttempts: number;
  /** The first retry's delay; each next one doubles, jittered to 50–100 %. */
  readonly baseDelayMs: number;
  /** The SDK import (a test may pass a fake). */
  readonly loadSdk?: () => Promise<SdkModule>;
}

/** The client part of the authorizer. */
export interface VpClient {
  /** The client, made on first use (a failed make is tried again next time). */
  get(): Promise<VerifiedPermissionsClientLike>;
  /** Make the client now and, for a `send()` client, import the SDK's commands. */
  prepare(): Promise<void>;
  /**
   * One call; retryable errors retried with jittered exponential backoff while the deadline allows.
   * Past the deadline (before or during a call, which is aborted) it rejects with
   * `authorizer_unavailable`; any other error is passed on as the client gave it.
   */
  call: VpCall;
  /** The SDK import it uses (the store read needs the same one). */
  readonly loadSdk: () => Promise<SdkModule>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The client part: a client, its calls and their retries. */
export function createVpClient(options: VpClientOptions): VpClient {
  const load = options.loadSdk ?? loadSdk;
  let client: Promise<VerifiedPermissionsClientLike> | undefined = options.client ? Promise.resolve(options.client) : undefined;
  function get(): Promise<VerifiedPermissionsClientLike> {
    if (!client) {
      client = load().then((m) => new m.VerifiedPermissionsClient({ maxAttempts: 1, ...(options.region ? { region: options.region } : {}), ...options.clientConfig }));
      client.catch(() => {
        client = undefined;
      });
    }
    return client;
  }

  async function once(op: Operation, input: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const c = await get();
    if ("send" in c && typeof c.send === "function") {
      const m = await load();
      const commands: Record<Operation, new (input: never) => unknown> = {
        IsAuthorized: m.IsAuthorizedCommand as never,
        BatchIsAuthorized: m.BatchIsAuthorizedCommand as never,
        IsAuthorizedWithToken: m.IsAuthorizedWithTokenCommand as never,
        BatchIsAuthorizedWithToken: m.BatchIsAuthorizedWithTokenCommand as never,
      };
      return c.send(new commands[op](input as never), { abortSignal: signal });
    }
    const method = (c as Record<string, unknown>)[METHOD[op]];
    if (typeof method !== "function") throw new TypeError(`the client has neither send() nor ${METHOD[op]}()`);
    return (method as (i: unknown, o: unknown) => Promise<unknown>).call(c, input, { abortSignal: signal });
  }

  async function call(op: Operation, input: Record<string, unknown>, deadline: number): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw unavailable("Verified Permissions did not answer in time");
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), remaining);
      try {
        return await once(op, input, controller.signal);
      } catch (err) {
        if (controller.signal.aborted) throw unavailable("Verified Permissions did not answer in time", err);
        if (!isRetryable(err) || attempt >= options.maxAttempts) throw err;
        const delay = options.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        if (Date.now() + delay >= deadline) throw err;
        await sleep(delay);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  return {
    get,
    async prepare() {
      const c = await get();
      if ("send" in c && typeof c.send === "function") await load();
    },
    call,
    loadSdk: load,
  };
}
