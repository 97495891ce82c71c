import type { TenantPrincipal } from "cognito-tenancy";
import { toCedarEntities } from "cognito-tenancy";

export function show(principal: TenantPrincipal) {
  const mapped = toCedarEntities(principal, { namespace: "TenancyDemo", tenantEntityType: "Tenant" });
  mapped.principal; // { type: "TenancyDemo::User", id: "us-east-1_TestPool|<sub>" }
  mapped.entities; // Cedar JSON: [{ uid, attrs, parents }, ...] for the user, its groups, its tenants
  mapped.context; // { token: {...} } for an access token, { tenant: { __entity } } with tenantEntityType
  mapped.entityList; // the same entities as Verified Permissions' entityList (tagged AttributeValues)
  mapped.contextMap; // the same context as Verified Permissions' contextMap
  return mapped;
}
