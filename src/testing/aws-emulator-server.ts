import { randomBytes } from "node:crypto";
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
