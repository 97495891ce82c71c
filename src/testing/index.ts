/**
 * The testing kit: mint Cognito-shaped tokens signed with real keys, serve them a JWKS on
 * loopback, and test your API with no AWS account and no network.
 * @packageDocumentation
 */
export { createTestIssuer } from "./issuer.js";
export type { TestIssuer, TestIssuerOptions, TestTokenOptions } from "./issuer.js";
export { startJwksServer } from "./jwks-server.js";
export { createTestFleet } from "./fleet.js";
export type { TestFleet, TestFleetOptions, TestFleetPool } from "./fleet.js";
export type { JwksServer, JwksServerBehavior } from "./jwks-server.js";
export { startVerifiedPermissionsEmulator } from "./vp-emulator.js";
export type {
  VerifiedPermissionsEmulator,
  VerifiedPermissionsEmulatorOptions,
  EmulatorBehavior,
  EmulatorOperation,
  EmulatorAuthorizationOperation,
  EmulatorIdentitySource,
  EmulatedPolicyStore,
} from "./vp-emulator.js";
export { startCognitoIdentityEmulator } from "./cognito-identity-emulator.js";
export type { CognitoIdentityEmulator, CognitoIdentityEmulatorOptions, CognitoIdentityOperation, EmulatedIdentityPool, IssuedCredentials } from "./cognito-identity-emulator.js";
export { startStsEmulator } from "./sts-emulator.js";
export type { StsEmulator, StsEmulatorOptions } from "./sts-emulator.js";
export type { AwsEmulatorBehavior, AwsCredentialsEmulator, EmulatorClientConfig } from "./aws-emulator-server.js";
