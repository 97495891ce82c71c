import { createTenantAuth, isTenantAuthError } from "cognito-tenancy";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client-id", tokenUse: "id" }],
});

export async function whoIsCalling(authorization: string | undefined, tenantHeader?: string) {
  try {
    const principal = await auth.resolveTenant(authorization, { tenantHint: tenantHeader });
    return { status: 200, tenant: principal.tenantId, user: principal.username, roles: principal.tenantRoles };
  } catch (err) {
    if (isTenantAuthError(err)) return { status: err.status, headers: err.headers, body: err.toJSON() };
    throw err;
  }
}
