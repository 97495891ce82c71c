// `npm run demo`: the seed's three-tenant scenario end to end, on 127.0.0.1, with no AWS account.
//
//   npm run demo                              # policies evaluated by local Cedar (cedar-wasm)
//   npm run demo -- --verified-permissions    # the real AWS SDK client against the local emulator
//   npm run demo -- --policy-sync             # local Cedar, policies synced from the emulator's store
//
// Starts a test issuer serving its JWKS over HTTP, the Express API of demo/api.ts, the policy
// engine and an identity pool (emulator) for each served request's AWS credentials
// (demo/credentials.ts); sends the requests of demo/cases.ts; prints the tables; exits 0 when every
// request had its expected outcome and its tenant's role, 1 otherwise (the demo is also an
// end-to-end test); closes every server.
import { runDemo } from "./demo.js";

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(
    "usage: npm run demo [-- --verified-permissions | --policy-sync]\n\n" +
      "  (default)                 the scenario's Cedar policies evaluated in process (cedar-wasm)\n" +
      "  --verified-permissions    decisions through @aws-sdk/client-verifiedpermissions, against a local emulator\n" +
      "  --policy-sync             decisions in process, policies and schema synced from the emulator's store through the SDK",
  );
} else {
  const unknown = args.filter((a) => a !== "--verified-permissions" && a !== "--policy-sync");
  if (unknown.length > 0 || args.length > 1) {
    console.error(unknown.length > 0 ? `demo: unknown option ${unknown.join(" ")} (try --help)` : "demo: choose one engine (try --help)");
    process.exitCode = 2;
  } else {
    runDemo({ engine: args.includes("--verified-permissions") ? "verified-permissions" : args.includes("--policy-sync") ? "policy-sync" : "cedar" }).then(
      (ok) => {
        process.exitCode = ok ? 0 : 1;
      },
      (err: unknown) => {
        console.error("demo: failed:", err);
        process.exitCode = 1;
      },
    );
  }
}
