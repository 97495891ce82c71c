import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** How the test JWKS server answers, to rehearse outages. */
export type JwksServerBehavior = "ok" | "error" | "garbage" | "hang";

/** A JWKS endpoint on 127.0.0.1, started by {@link TestIssuer.listen}. */
export interface JwksServer {
  /** `http://127.0.0.1:<port>/.well-known/jwks.json` */
  readonly jwksUri: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Requests served so far (any path). */
  readonly requestCount: number;
  /** Requests for one path (`/<poolId>/.well-known/jwks.json`) so far, whatever the answer. */
  requestsFor(path: string): number;
  /** Switch to answering 500s, non-JSON, or never answering; `"ok"` to recover. */
  setBehavior(behavior: JwksServerBehavior): void;
  /** Stop the server and drop open connections. */
  close(): Promise<void>;
}

/**
 * Serve `getJwks(path)` (read on every request, so rotations show) on loopback, port 0, for any
 * path ending in `/.well-known/jwks.json`. `undefined` from `getJwks` is a 404, so one server can
 * hold the keys of many pools, one path each.
 */
export async function startJwksServer(getJwks: (path: string) => unknown): Promise<JwksServer> {
  let behavior: JwksServerBehavior = "ok";
  let requestCount = 0;
  const perPath = new Map<string, number>();
  const server = createServer((req, res) => {
    requestCount++;
    const path = (req.url ?? "").split("?")[0] as string;
    perPath.set(path, (perPath.get(path) ?? 0) + 1);
    if (behavior === "hang") return;
    if (behavior === "error") {
      res.writeHead(500, { "content-type": "text/plain" }).end("internal error");
      return;
    }
    if (behavior === "garbage") {
      res.writeHead(200, { "content-type": "application/json" }).end("<html>not a jwks</html>");
      return;
    }
    if (req.method !== "GET" || !(req.url ?? "").endsWith("/.well-known/jwks.json")) {
      res.writeHead(404).end();
      return;
    }
    const jwks = getJwks(path);
    if (jwks === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    jwksUri: `${url}/.well-known/jwks.json`,
    url,
    get requestCount() {
      return requestCount;
    },
    requestsFor(path) {
      return perPath.get(path) ?? 0;
    },
    setBehavior(next) {
      behavior = next;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
