import type { TestIssuer } from "../src/testing/index.js";
import { createTestIssuer } from "../src/testing/index.js";

/** The tokens every benchmark uses: RS256 Cognito-shaped ID tokens from one issuer. */
export interface BenchTokens {
  readonly issuer: TestIssuer;
  /** Distinct tokens (distinct `sub`, `jti`), all valid for an hour. */
  readonly tokens: readonly string[];
}

export async function mintTokens(count: number): Promise<BenchTokens> {
  const issuer = await createTestIssuer({ userPoolId: "us-east-1_TestPool", alg: "RS256" });
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await issuer.idToken({
        groups: ["tenant:acme", "tenant:acme:admin", "staff"],
        claims: { email: `user${i}@example.com` },
        expiresIn: 3600,
      }),
    );
  }
  return { issuer, tokens };
}
