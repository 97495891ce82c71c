// The emulator's policy store management operations, driven by the real SDK client: paging,
// templates and template-linked policies, the model's validation, and a store that changes.
import {
  BatchGetPolicyCommand,
  GetPolicyCommand,
  GetPolicyTemplateCommand,
  GetSchemaCommand,
  IsAuthorizedCommand,
  ListPoliciesCommand,
  ListPolicyTemplatesCommand,
  PutSchemaCommand,
  UpdatePolicyCommand,
  paginateListPolicies,
} from "@aws-sdk/client-verifiedpermissions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerifiedPermissionsEmulator } from "../../src/testing/index.js";
import { startVerifiedPermissionsEmulator } from "../../src/testing/index.js";
import type { PolicyStoreAdmin } from "../support/policy-store.js";
import { policyStoreAdmin } from "../support/policy-store.js";
import { POLICIES, SCHEMA } from "../support/scenario.js";

let emulator: VerifiedPermissionsEmulator;
let admin: PolicyStoreAdmin;
const policyStoreId = "PSSTORETEST";
const user = (sub: string) => ({ entityType: "TenancyDemo::User", entityId: `us-east-1_TestPool|${sub}` });
const bucket = (b: string) => ({ entityType: "TenancyDemo::Bucket", entityId: b });
const TEMPLATE = `permit (principal == ?principal, action in [TenancyDemo::Action::"ReadObject", TenancyDemo::Action::"ListBucket"], resource in ?resource);`;

beforeAll(async () => {
  emulator = await startVerifiedPermissionsEmulator({ policies: POLICIES, schema: SCHEMA, policyStoreId });
  admin = policyStoreAdmin(emulator);
});
afterAll(() => emulator.close());

describe("the emulator's policy store operations", () => {
  it("ListPolicies pages (default 10, at most 50) and GetPolicy/BatchGetPolicy return statements", async () => {
    const created: string[] = [];
    for (let i = 0; i < 12; i++) created.push(await admin.createPolicy(`permit (principal == TenancyDemo::User::"u${i}", action, resource);`, `p${i}`));
    const first = await admin.client.send(new ListPoliciesCommand({ policyStoreId }));
    expect(first.policies).toHaveLength(10);
    expect(first.nextToken).toBeDefined();
    expect(first.policies![0]!.definition).toEqual({ static: {} });
    const all: { policyId?: string; policyType?: string; lastUpdatedDate?: Date; principal?: unknown }[] = [];
    for await (const page of paginateListPolicies({ client: admin.client, pageSize: 7 }, { policyStoreId })) all.push(...page.policies!);
    expect(all.map((p) => p.policyId)).toEqual(expect.arrayContaining(["acme-reads-own-bucket", ...created]));
    expect(new Set(all.map((p) => p.policyId)).size).toBe(17);
    const item = all.find((p) => p.policyId === created[0])!;
    expect(item).toMatchObject({ policyType: "STATIC", principal: { entityType: "TenancyDemo::User", entityId: "u0" }, effect: "Permit" });
    expect(item.lastUpdatedDate).toBeInstanceOf(Date);
    await expect(admin.client.send(new ListPoliciesCommand({ policyStoreId, maxResults: 51 }))).rejects.toMatchObject({ name: "ValidationException" });
    await expect(admin.client.send(new ListPoliciesCommand({ policyStoreId, maxResults: 0 }))).rejects.toMatchObject({ name: "ValidationException" });
    await expect(admin.client.send(new ListPoliciesCommand({ policyStoreId, nextToken: "bm9wZQ" }))).rejects.toMatchObject({ name: "ValidationException" });

    const one = await admin.client.send(new GetPolicyCommand({ policyStoreId, policyId: created[1]! }));
    expect(one.definition).toEqual({ static: { description: "p1", statement: `permit (principal == TenancyDemo::User::"u1", action, resource);` } });
    const batch = await admin.client.send(
      new BatchGetPolicyCommand({
        requests: [
          { policyStoreId, policyId: created[2]! },
          { policyStoreId, policyId: "nope" },
          { policyStoreId: "PSother", policyId: created[2]! },
        ],
      }),
    );
    expect(batch.results!.map((r) => r.policyId)).toEqual([created[2]]);
    expect(batch.results![0]!.definition!.static!.statement).toContain('"u2"');
    expect(batch.errors!.map((e) => e.code)).toEqual(["POLICY_NOT_FOUND", "POLICY_STORE_NOT_FOUND"]);
    await expect(admin.client.send(new BatchGetPolicyCommand({ requests: Array.from({ length: 101 }, () => ({ policyStoreId, policyId: "x" })) }))).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(admin.client.send(new GetPolicyCommand({ policyStoreId, policyId: "bad id!" }))).rejects.toMatchObject({ name: "ValidationException" });
    await expect(admin.client.send(new GetPolicyCommand({ policyStoreId, policyId: "missing" }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    for (const id of created) await admin.deletePolicy(id);
  });

  it("templates and template-linked policies: listed, linked, evaluated under the link's id", async () => {
    const templateId = await admin.createTemplate(TEMPLATE, "reader");
    const listed = await admin.client.send(new ListPolicyTemplatesCommand({ policyStoreId }));
    expect(listed.policyTemplates!.map((t) => t.policyTemplateId)).toContain(templateId);
    expect((await admin.client.send(new GetPolicyTemplateCommand({ policyStoreId, policyTemplateId: templateId }))).statement).toBe(TEMPLATE);
    const linkId = await admin.link(templateId, { principal: user("erin"), resource: bucket("globex-assets") });
    const linked = await admin.client.send(new ListPoliciesCommand({ policyStoreId, filter: { policyType: "TEMPLATE_LINKED" } }));
    expect(linked.policies).toEqual([
      expect.objectContaining({
        policyId: linkId,
        policyType: "TEMPLATE_LINKED",
        definition: { templateLinked: { policyTemplateId: templateId, principal: user("erin"), resource: bucket("globex-assets") } },
      }),
    ]);
    const ask = () =>
      admin.client.send(
        new IsAuthorizedCommand({
          policyStoreId,
          principal: user("erin"),
          action: { actionType: "TenancyDemo::Action", actionId: "ListBucket" },
          resource: bucket("globex-assets"),
        }),
      );
    expect(await ask()).toMatchObject({ decision: "ALLOW", determiningPolicies: [{ policyId: linkId }] });
    // A slot the template has must be filled; one it lacks must not be.
    await expect(admin.link(templateId, { principal: user("erin") })).rejects.toMatchObject({ name: "ValidationException" });
    await expect(admin.link("PTmissing", { principal: user("erin") })).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    // A template change changes every linked policy.
    await admin.updateTemplate(templateId, TEMPLATE.replace(', TenancyDemo::Action::"ListBucket"', ""));
    expect(await ask()).toMatchObject({ decision: "DENY" });
    await admin.deletePolicy(linkId);
  });

  it("writes are validated: one policy per statement, the schema in STRICT mode, the update rules", async () => {
    await expect(admin.createPolicy(`permit (principal, action == TenancyDemo::Action::"Nope", resource);`)).rejects.toMatchObject({ name: "ValidationException" });
    await expect(admin.createPolicy(`permit (principal, action, resource); forbid (principal, action, resource);`)).rejects.toMatchObject({ name: "ValidationException" });
    await expect(admin.createPolicy(`permit (principal == ?principal, action, resource);`)).rejects.toMatchObject({ name: "ValidationException" });
    await expect(admin.createPolicy("permit (principal, action, resource) when { 1 + };")).rejects.toMatchObject({ name: "ValidationException" });
    const id = await admin.createPolicy(`permit (principal == TenancyDemo::User::"x", action == TenancyDemo::Action::"ReadObject", resource);`);
    await admin.updatePolicy(id, `permit (principal == TenancyDemo::User::"x", action == TenancyDemo::Action::"ListBucket", resource);`);
    await expect(admin.updatePolicy(id, `forbid (principal == TenancyDemo::User::"x", action == TenancyDemo::Action::"ListBucket", resource);`)).rejects.toMatchObject({ name: "ValidationException" });
    await expect(admin.updatePolicy(id, `permit (principal == TenancyDemo::User::"y", action, resource);`)).rejects.toMatchObject({ name: "ValidationException" });
    await expect(
      admin.client.send(new UpdatePolicyCommand({ policyStoreId, policyId: "missing", definition: { static: { statement: "permit (principal, action, resource);" } } })),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
    await admin.deletePolicy(id);
    await expect(admin.deletePolicy(id)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("GetSchema answers the schema as JSON; PutSchema replaces it", async () => {
    const got = await admin.client.send(new GetSchemaCommand({ policyStoreId }));
    const json = JSON.parse(got.schema!) as Record<string, { entityTypes: Record<string, unknown> }>;
    expect(Object.keys(json["TenancyDemo"]!.entityTypes)).toContain("Bucket");
    expect(got.namespaces).toEqual(["TenancyDemo"]);
    await expect(admin.client.send(new PutSchemaCommand({ policyStoreId, definition: { cedarJson: "{nope" } }))).rejects.toMatchObject({ name: "ValidationException" });
    const put = await admin.client.send(new PutSchemaCommand({ policyStoreId, definition: { cedarJson: got.schema! } }));
    expect(put.lastUpdatedDate!.getTime()).toBeGreaterThan(got.lastUpdatedDate!.getTime());
    const plain = await startVerifiedPermissionsEmulator({ policies: POLICIES });
    try {
      await expect(policyStoreAdmin(plain).client.send(new GetSchemaCommand({ policyStoreId: plain.policyStoreId }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    } finally {
      await plain.close();
    }
  });

  it("validationMode OFF accepts a policy the schema does not validate", async () => {
    const off = await startVerifiedPermissionsEmulator({ policies: POLICIES, schema: SCHEMA, validationMode: "OFF" });
    try {
      const a = policyStoreAdmin(off);
      await expect(a.createPolicy(`permit (principal, action == TenancyDemo::Action::"Nope", resource);`)).resolves.toMatch(/^[A-Za-z0-9]{22}$/);
    } finally {
      await off.close();
    }
  });

  it("counts management calls and rehearses their outages", async () => {
    emulator.resetCalls();
    emulator.setBehavior("error", { operations: ["ListPolicies"], times: 1 });
    await expect(admin.client.send(new ListPoliciesCommand({ policyStoreId }))).rejects.toMatchObject({ name: "InternalServerException" });
    await admin.client.send(new ListPoliciesCommand({ policyStoreId }));
    expect(emulator.calls).toMatchObject({ ListPolicies: 2, IsAuthorized: 0 });
    expect(emulator.callCount).toBe(0);
  });
});
