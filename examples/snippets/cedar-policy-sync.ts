import { createCedarAuthorizer } from "cognito-tenancy/cedar";

const authorizer = createCedarAuthorizer({
  namespace: "TenancyDemo",
  policyStore: {
    policyStoreId: "PSEXAMPLEabcdefg111111",
    region: "us-east-1",
    refreshMs: 60_000, // check the store every minute (the default)
    maxStaleMs: 300_000, // refuse decisions (503) once the set is 5 minutes unconfirmed (the default)
    onError: (err) => console.warn("policy store refresh failed", err),
  },
});
// The first load: rejects when the store is missing or its policies do not pass Cedar.
await authorizer.ready();

// On a webhook or an EventBridge rule on the store's changes:
export const onPolicyStoreChanged = () => authorizer.refresh();
