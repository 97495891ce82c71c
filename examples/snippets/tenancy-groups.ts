import { createTenantAuth } from "cognito-tenancy";

// The seed's scenario: every tenant has a group, and each group has a preferred IAM role.
const ROLE = {
  acme: "arn:aws:iam::111122223333:role/tenants/acme-assets-reader",
  globex: "arn:aws:iam::111122223333:role/tenants/globex-assets-reader",
  initech: "arn:aws:iam::111122223333:role/tenants/initech-assets-reader",
};

export const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "app-client-id", tokenUse: "id" }],
  tenants: {
    from: "groups",
    // Default pattern: `tenant:<id>` or `tenant:<id>:<role>`. Yours may differ:
    pattern: /^tenant:(?<tenant>[a-z0-9-]+)(?::(?<role>admin|member))?$/,
    // A user in several tenants who sends no x-tenant-id acts for the tenant of the role
    // Cognito put in cognito:preferred_role (ID tokens)...
    roleTenants: { [ROLE.acme]: "acme", [ROLE.globex]: "globex", [ROLE.initech]: "initech" },
    // ...or, failing that, of the first of these groups they are in. Mirror the groups' Precedence.
    precedence: ["tenant:globex", "tenant:acme", "tenant:initech"],
  },
});
