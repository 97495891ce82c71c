import type { TenantPrincipal } from "./principal.js";

// The raw token each principal was resolved from, for engines that need it again
// (Verified Permissions' IsAuthorizedWithToken). Principals are cached per token, so the mapping
// is exact; a WeakMap keeps the token out of the principal's own data (and out of JSON and logs).
const tokens = new WeakMap<TenantPrincipal, string>();

/** @internal Remember the token `principal` was verified from. */
export function rememberToken(principal: TenantPrincipal, token: string): void {
  tokens.set(principal, token);
}

/** @internal The token `principal` was verified from, if `resolveTenant` made it. */
export function tokenOf(principal: TenantPrincipal): string | undefined {
  return tokens.get(principal);
}
