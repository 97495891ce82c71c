// Seed and change an emulated (or real) policy store through the real SDK client, as an operator
// would: policies, templates and template-linked policies.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  CreatePolicyCommand,
  CreatePolicyTemplateCommand,
  DeletePolicyCommand,
  UpdatePolicyCommand,
  UpdatePolicyTemplateCommand,
  VerifiedPermissionsClient,
} from "@aws-sdk/client-verifiedpermissions";
import type { PolicyInput } from "../../src/authorizers/cedar-engine.js";
import { splitPolicyInput } from "../../src/authorizers/cedar-engine.js";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";

type Uid = { entityType: string; entityId: string };

export interface PolicyStoreAdmin {
  readonly client: VerifiedPermissionsClient;
  createPolicy(statement: string, description?: string): Promise<string>;
  updatePolicy(policyId: string, statement: string): Promise<void>;
  deletePolicy(policyId: string): Promise<void>;
  createTemplate(statement: string, description?: string): Promise<string>;
  updateTemplate(policyTemplateId: string, statement: string): Promise<void>;
  link(policyTemplateId: string, slots: { principal?: Uid; resource?: Uid }): Promise<string>;
  /**
   * Create each policy of `policies` (Cedar text, as in a `.cedar` file, or id → text) as one static
   * policy; returns the local id (`@id` or `policy<N>`) → the store's id.
   */
  seed(policies: PolicyInput): Promise<Record<string, string>>;
  /** {@link seed} with every `*.cedar` file of a directory. */
  seedFromFiles(dir: string): Promise<Record<string, string>>;
}

export function policyStoreAdmin(emulator: VerifiedPermissionsEmulator): PolicyStoreAdmin {
  const client = new VerifiedPermissionsClient({ ...emulator.clientConfig, maxAttempts: 1 });
  const policyStoreId = emulator.policyStoreId;
  const admin: PolicyStoreAdmin = {
    client,
    async createPolicy(statement, description) {
      const out = await client.send(new CreatePolicyCommand({ policyStoreId, definition: { static: { statement, ...(description ? { description } : {}) } } }));
      return out.policyId!;
    },
    async updatePolicy(policyId, statement) {
      await client.send(new UpdatePolicyCommand({ policyStoreId, policyId, definition: { static: { statement } } }));
    },
    async deletePolicy(policyId) {
      await client.send(new DeletePolicyCommand({ policyStoreId, policyId }));
    },
    async createTemplate(statement, description) {
      const out = await client.send(new CreatePolicyTemplateCommand({ policyStoreId, statement, ...(description ? { description } : {}) }));
      return out.policyTemplateId!;
    },
    async updateTemplate(policyTemplateId, statement) {
      await client.send(new UpdatePolicyTemplateCommand({ policyStoreId, policyTemplateId, statement }));
    },
    async link(policyTemplateId, slots) {
      const out = await client.send(new CreatePolicyCommand({ policyStoreId, definition: { templateLinked: { policyTemplateId, ...slots } } }));
      return out.policyId!;
    },
    async seed(policies) {
      const ids: Record<string, string> = {};
      for (const [local, text] of Object.entries(await splitPolicyInput(policies))) ids[local] = await admin.createPolicy(text, local);
      return ids;
    },
    async seedFromFiles(dir) {
      const ids: Record<string, string> = {};
      for (const name of readdirSync(dir)
        .filter((n) => n.endsWith(".cedar"))
        .sort())
        Object.assign(ids, await admin.seed(readFileSync(join(dir, name), "utf8")));
      return ids;
    },
  };
  return admin;
}
