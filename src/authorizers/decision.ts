import type { Decision } from "../core/authorizer.js";

/** The common decision rule: `allowed` only for ALLOW, and (unless told otherwise) only without errors. */
export function toDecision(decision: "ALLOW" | "DENY", determiningPolicies: readonly string[], errors: readonly string[], allowWithErrors: boolean): Decision {
  const allowed = decision === "ALLOW" && (allowWithErrors || errors.length === 0);
  return Object.freeze({
    allowed,
    decision: allowed ? "ALLOW" : "DENY",
    determiningPolicies: Object.freeze([...determiningPolicies]),
    errors: Object.freeze([...errors]),
  });
}
