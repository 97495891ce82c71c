// The core's byte helpers give Node's answers without Node's Buffer, as on Cloudflare Workers
// without nodejs_compat (the runtime suite runs them there; here Buffer is hidden from the module).
import { Buffer, isUtf8 as nodeIsUtf8 } from "node:buffer";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

type Bytes = typeof import("../../src/core/bytes.js");
let web: Bytes;

beforeAll(async () => {
  vi.stubGlobal("Buffer", undefined);
  vi.resetModules();
  web = await import("../../src/core/bytes.js");
  vi.unstubAllGlobals();
});

afterAll(() => {
  vi.resetModules();
});

describe("without Buffer", () => {
  it("base64url decoding equals Node's, for any bytes and any text", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = Buffer.from(bytes).toString("base64url");
        expect([...web.base64urlToBytes(text)]).toEqual([...bytes]);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."AZaz09-_+/=. \u00e9".split("")), maxLength: 80 }), (text) => {
        expect([...web.base64urlToBytes(text)]).toEqual([...Buffer.from(text, "base64url")]);
      }),
    );
  });

  it("UTF-8 validation and text decoding equal Node's", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(web.isUtf8(bytes)).toBe(nodeIsUtf8(bytes));
        const text = Buffer.from(bytes).toString("base64url");
        expect(web.base64urlToText(text)).toBe(Buffer.from(bytes).toString("utf8"));
      }),
    );
  });

  it("concatenation", () => {
    expect([...web.concatBytes([new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3])])]).toEqual([1, 2, 3]);
  });
});
