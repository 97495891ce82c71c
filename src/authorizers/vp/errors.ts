/** How the Verified Permissions authorizer's parts fail: one typed 503, and safe reads of anything a client rejects with. */
import { TenantAuthError } from "../../core/errors.js";

// The client sees one generic description; what went wrong (an AWS exception name, a mapping
// error) stays in `cause`, for the app's logs.
export function unavailable(detail: string, cause?: unknown): TenantAuthError {
  return new TenantAuthError("authorizer_unavailable", "The policy engine could not decide", {
    cause: cause ?? new Error(`Verified Permissions authorizer: ${detail}`),
  });
}

/**
 * A client may reject with anything: `undefined`, `null`, a string, a frozen object, an object whose
 * getters throw. Reading a field of it must never throw (a throw in a catch would escape as an
 * unhandled rejection and take the process down).
 */
export function field(err: unknown, name: string): unknown {
  if ((typeof err !== "object" && typeof err !== "function") || err === null) return undefined;
  try {
    return (err as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

/** The error's name for the cause message: its `name` when it is a string, else its type. */
export function errorName(err: unknown): string {
  const name = field(err, "name");
  if (typeof name === "string" && name.length > 0) return name;
  return err === null ? "null" : typeof err;
}
