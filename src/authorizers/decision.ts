import type { Decision } from "../core/authorizer.js";

/** The common decision rule: `allowed` only for ALLOW, and (unless told otherwise) only without errors. */
export function toDecision(decision: "ALLOW" | "DENY", determiningPolicies: readonly string[], errors: readonly string[], allowWithErrors: boolean): Decision {
  const allowed = decision === "ALLOW" && (allowWithErrors || errors.length === 0);
  const verdict = allowed ? ({ allowed: true, decision: "ALLOW" } as const) : ({ allowed: false, decision: "DENY" } as const);
  return Object.freeze({
    ...verdict,
    determiningPolicies: Object.freeze([...determiningPolicies]),
    errors: Object.freeze([...errors]),
  });
}
