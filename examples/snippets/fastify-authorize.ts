import Fastify from "fastify";
import type { AuthorizationRequest, Authorizer, Decision } from "cognito-tenancy";
import { createTenantAuth } from "cognito-tenancy";
import { tenantAuthPlugin } from "cognito-tenancy/fastify";

// Use createCedarAuthorizer (cognito-tenancy/cedar) or createVerifiedPermissionsAuthorizer
// (cognito-tenancy/verified-permissions). Any object with isAuthorized() will do:
class SameTenantAuthorizer implements Authorizer {
  async isAuthorized({ principal, resource }: AuthorizationRequest): Promise<Decision> {
    // A Decision is either { allowed: true, decision: "ALLOW" } or { allowed: false, decision: "DENY" }.
    if (resource.attributes?.["tenantId"] === principal.tenantId) return { allowed: true, decision: "ALLOW", determiningPolicies: [], errors: [] };
    return { allowed: false, decision: "DENY", determiningPolicies: [], errors: [] };
  }
}

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client", tokenUse: "id" }],
});
const app = Fastify();
await app.register(tenantAuthPlugin, { auth, authorizer: new SameTenantAuthorizer() });

interface DocParams {
  tenant: string;
  id: string;
}

app.get<{ Params: DocParams }>(
  "/tenants/:tenant/docs/:id",
  {
    config: {
      tenantAuth: {
        authorize: {
          action: "ReadDocument",
          // Runs in preHandler: params, query, headers and the validated body are all there.
          resource: (request) => {
            const { tenant, id } = request.params as DocParams;
            return { type: "Document", id, attributes: { tenantId: tenant } };
          },
          context: (request) => ({ sourceIp: request.ip }),
        },
      },
    },
  },
  async (request) => ({ id: request.params.id }),
);
