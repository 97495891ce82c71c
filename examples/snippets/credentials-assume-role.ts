import { createTenantCredentials } from "cognito-tenancy/credentials";

// One role for every tenant; its policies use aws:PrincipalTag/TenantId. The server's own AWS
// credentials (the default provider chain) call sts:AssumeRole and sts:TagSession.
export const creds = createTenantCredentials({
  assumeRole: {
    roleArn: "arn:aws:iam::111122223333:role/tenant-assets-reader",
    tags: (principal) => ({ TenantId: principal.tenantId! }), // the default
    // Optional: narrow further, per request (at most 2048 characters; checked before the call).
    sessionPolicy: (principal) => ({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${principal.tenantId}-assets/*` }],
    }),
    durationSeconds: 900,
    region: "us-east-1",
  },
});
