/**
 * Every module of the core, as the one shared file the build emits (dist/core.js): the root entry
 * and each adapter, authorizer and the testing kit import it, so they share one TenantAuthError
 * class and one token memory, and importing the root loads two files instead of a chunk per
 * combination of entries. Not a public entry point: the package exports map does not list it.
 * @internal
 */
export * from "./adapter-options.js";
export * from "./authorizer.js";
export * from "./bytes.js";
export * from "./cache.js";
export * from "./cedar-entities.js";
export * from "./cedar/values.js";
export * from "./cedar/wire.js";
export * from "./cedar/principal.js";
export * from "./cedar/schema.js";
export * from "./cedar/request.js";
export * from "./claims.js";
export * from "./errors.js";
export * from "./extract-token.js";
export * from "./guards.js";
export * from "./jwks.js";
export * from "./options.js";
export * from "./principal-token.js";
export * from "./principal.js";
export * from "./request-auth.js";
export * from "./tenancy.js";
export * from "./telemetry.js";
export * from "./tenant-auth.js";
export * from "./trust.js";
export * from "./verify.js";
