import { createTenantAuth } from "cognito-tenancy";
import { createApp } from "./getting-started-app.js";

const auth = createTenantAuth({
  userPools: [{ userPoolId: "us-east-1_AbC123", clientId: "your-app-client-id", tokenUse: "id" }],
  // tenants: { from: "groups" } is the default: groups named tenant:<id> or tenant:<id>:<role>
});
await auth.hydrate(); // fetch the pool's keys at start, not on the first request

createApp(auth).listen(3000);
