import { base64urlToText } from "./bytes.js";
import type { TenantPrincipal } from "./principal.js";

// The raw token each principal was resolved from, for engines that need it again
// (Verified Permissions' IsAuthorizedWithToken). Principals are cached per token, so the mapping
// is exact; a WeakMap keeps the token out of the principal's own data (and out of JSON and logs).
// Off until such an engine is created: the WeakMap costs every other app time on each new token.
const tokens = new WeakMap<TenantPrincipal, string>();

/** @internal Whether principals are being mapped to their tokens (read on the hot path). */
export const tokenMemory = { on: false };

/** @internal Start mapping principals to their tokens, from the next principal served on. */
export function wantTokens(): void {
  tokenMemory.on = true;
}

/** @internal Remember the token `principal` was verified from. */
export function rememberToken(principal: TenantPrincipal, token: string): void {
  tokens.set(principal, token);
}

/** @internal The token `principal` was verified from, if `resolveTenant` served it while on. */
export function tokenOf(principal: TenantPrincipal): string | undefined {
  return tokens.get(principal);
}

/**
 * @internal Whether `token` is `principal`'s own: the very token `resolveTenant` verified for it
 * when known, else one naming the same `sub` and `iss` (read unverified: enough to refuse a
 * mix-up, where the caller passes a token beside a principal from elsewhere).
 */
export function tokenBelongsTo(token: string, principal: TenantPrincipal): boolean {
  const known = tokenOf(principal);
  if (known !== undefined) return known === token;
  try {
    const payload = JSON.parse(base64urlToText(token.split(".")[1] ?? "")) as { sub?: unknown; iss?: unknown };
    return payload.sub === principal.sub && payload.iss === principal.issuer;
  } catch {
    return false;
  }
}
