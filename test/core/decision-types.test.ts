// A Decision's two fields agree in the types: allowed is true exactly with decision "ALLOW".
// The expectTypeOf and @ts-expect-error lines are checked by `npm run typecheck`; the rest runs.
import { describe, expect, expectTypeOf, it } from "vitest";
import type { Decision } from "../../src/index.js";
import { toDecision } from "../../src/authorizers/decision.js";

describe("Decision", () => {
  it("narrowing on either field narrows the other", () => {
    const d: Decision = toDecision("ALLOW", ["p1"], [], false);
    if (d.allowed) expectTypeOf(d.decision).toEqualTypeOf<"ALLOW">();
    else expectTypeOf(d.decision).toEqualTypeOf<"DENY">();
    if (d.decision === "DENY") expectTypeOf(d.allowed).toEqualTypeOf<false>();
    expect(d).toEqual({ allowed: true, decision: "ALLOW", determiningPolicies: ["p1"], errors: [] });
  });

  it("a decision whose fields disagree cannot be built", () => {
    // @ts-expect-error allowed with a DENY
    const a: Decision = { allowed: true, decision: "DENY", determiningPolicies: [], errors: [] };
    // @ts-expect-error an ALLOW that does not allow
    const b: Decision = { allowed: false, decision: "ALLOW", determiningPolicies: [], errors: [] };
    expect([a.decision, b.decision]).toEqual(["DENY", "ALLOW"]);
  });

  it("toDecision keeps them together: an ALLOW with errors is a DENY unless allowWithErrors", () => {
    expect(toDecision("ALLOW", [], ["boom"], false)).toMatchObject({ allowed: false, decision: "DENY" });
    expect(toDecision("ALLOW", [], ["boom"], true)).toMatchObject({ allowed: true, decision: "ALLOW" });
    expect(toDecision("DENY", ["f1"], [], true)).toMatchObject({ allowed: false, decision: "DENY" });
  });
});
