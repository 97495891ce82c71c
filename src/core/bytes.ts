/**
 * Byte helpers that run on every runtime the core supports: Node's `Buffer` where the runtime has
 * one (Node, Bun, Deno, Workers with `nodejs_compat`), plain Web APIs elsewhere (Cloudflare Workers
 * without it). The core imports no `node:` module, so it loads on all of them.
 */

interface BufferLike {
  from(text: string, encoding: "base64url"): Uint8Array & { toString(encoding: "utf8"): string };
  concat(chunks: readonly Uint8Array[]): Uint8Array;
}

// Read once: a global Buffer is Node's (or a runtime's faithful copy of it).
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;
// Node's decoder accepts the standard alphabet in base64url input too; so does this one.
VALUE["+".charCodeAt(0)] = 62;
VALUE["/".charCodeAt(0)] = 63;

/**
 * The bytes of base64url `text`. Like Node's decoder it is lenient: the first `=` ends the data,
 * other characters outside the alphabet are skipped. Callers that need strictness check the text first.
 */
export function base64urlToBytes(text: string): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, "base64url");
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let count = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 61) break; // "=": padding ends the data, as in Node
    const value = code < 128 ? (VALUE[code] as number) : -1;
    if (value < 0) continue;
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[n++] = (bits >> count) & 0xff;
    }
  }
  return out.subarray(0, n);
}

/** The UTF-8 text of base64url `text`, invalid sequences replaced by U+FFFD. */
export function base64urlToText(text: string): string {
  // On the hot path (every new token's payload): Buffer's decoder is several times TextDecoder's speed.
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, "base64url").toString("utf8");
  return new TextDecoder().decode(base64urlToBytes(text));
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether `bytes` are valid UTF-8 (what a fatal `TextDecoder` accepts). */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** One array holding `chunks` in order. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.concat(chunks);
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
