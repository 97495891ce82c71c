import type { Authorizer } from "cognito-tenancy";
import { authorize } from "cognito-tenancy/express";

declare const authorizer: Authorizer;
declare const audit: { write(entry: Record<string, unknown>): void };

// Every ALLOW and DENY, with the policies that decided, before the request goes on or is refused.
export const readInvoice = authorize(authorizer, {
  action: "ReadInvoice",
  resource: (req) => ({ type: "Invoice", id: String(req.params.id) }),
  onDecision: (decision, req) =>
    audit.write({
      user: req.tenant?.sub,
      tenant: req.tenant?.tenantId,
      action: "ReadInvoice",
      invoice: req.params.id,
      decision: decision.decision,
      policies: decision.determiningPolicies,
    }),
});
