/**
 * The Cedar entity mapping, as one import: Cedar values (./cedar/values.ts), the Verified
 * Permissions wire format (./cedar/wire.ts), the principal mapping (./cedar/principal.ts), schema
 * projection (./cedar/schema.ts) and request assembly (./cedar/request.ts).
 */
export * from "./cedar/values.js";
export * from "./cedar/wire.js";
export * from "./cedar/principal.js";
export * from "./cedar/schema.js";
export * from "./cedar/request.js";
