// A group requirement that says both `all` and `any` (which the GroupRequirement type accepts)
// must enforce both. It enforced `all` only and silently dropped `any`, letting in callers in
// none of the `any` groups.
import express from "express";
import { describe, expect, it } from "vitest";
import type { GroupRequirement } from "../../src/index.js";
import { assertGroups, createTenantAuth, isTenantAuthError } from "../../src/index.js";
import { requireGroups, tenantAuth, tenantAuthErrorHandler } from "../../src/adapters/express.js";
import { createTestIssuer } from "../../src/testing/index.js";

const both: GroupRequirement = { all: ["mfa"], any: ["admins", "owners"] };

describe("{ all, any } together", async () => {
  const issuer = await createTestIssuer();
  const auth = createTenantAuth({ userPools: [issuer.userPool] });
  const mfaOnly = await issuer.idToken({ groups: ["tenant:acme", "mfa"] });
  const mfaAdmin = await issuer.idToken({ groups: ["tenant:acme", "mfa", "admins"] });
  const adminOnly = await issuer.idToken({ groups: ["tenant:acme", "admins"] });

  it("assertGroups requires every `all` group and one of the `any` groups", async () => {
    const refused = (p: Awaited<ReturnType<typeof auth.resolveTenant>>) => {
      try {
        assertGroups(p, both);
        return undefined;
      } catch (err) {
        return isTenantAuthError(err) ? err.code : String(err);
      }
    };
    expect(refused(await auth.resolveTenant(mfaAdmin))).toBeUndefined();
    expect(refused(await auth.resolveTenant(mfaOnly))).toBe("access_denied");
    expect(refused(await auth.resolveTenant(adminOnly))).toBe("access_denied");
  });

  it("Express requireGroups({ all, any }) too", async () => {
    const app = express();
    app.get("/x", tenantAuth(auth), requireGroups(both as { all: string[] }), (_req, res) => void res.json({ ok: true }));
    app.use(tenantAuthErrorHandler());
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const { port } = server.address() as { port: number };
      const status = async (token: string) => (await fetch(`http://127.0.0.1:${port}/x`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect(await status(mfaAdmin)).toBe(200);
      expect(await status(mfaOnly)).toBe(403);
      expect(await status(adminOnly)).toBe(403);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
