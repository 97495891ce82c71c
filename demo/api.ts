// The demo's API: an Express app serving tenants' objects, protected by cognito-tenancy.
//
//   GET /buckets/:bucket/objects/:key
//
// tenantAuth() verifies the bearer token and resolves the tenant the request acts for (the
// x-tenant-id header may choose among the caller's tenants, never add one); authorize() asks the
// policy engine (local Cedar or Verified Permissions, both behind the same Authorizer interface)
// whether that caller, acting for that tenant, may ReadObject this object. Every refusal is a
// TenantAuthError that tenantAuthErrorHandler() answers quietly with its status and challenge.
import express from "express";
import type { Express } from "express";
import type { Authorizer, Decision, ResourceRef, TenantAuth } from "cognito-tenancy";
import type { TenantCredentials, TenantCredentialsSource } from "cognito-tenancy/credentials";
import { authorize, tenantAuth, tenantAuthErrorHandler } from "cognito-tenancy/express";
import { BUCKET } from "../fixtures/scenario.js";

/** Bucket name → the tenant that owns it (acme-assets → acme, ...). */
const BUCKET_OWNER: ReadonlyMap<string, string> = new Map(Object.entries(BUCKET).map(([tenant, bucket]) => [bucket, tenant]));

/**
 * The object as a Cedar resource: `TenancyDemo::Object::"<bucket>/<key>"`, in its bucket and in the
 * tenant that owns the bucket, so that `resource in TenancyDemo::Bucket::"acme-assets"` (the
 * per-tenant permits) and `resource in context.tenant` (the active-tenant-only forbid) can be tested.
 */
export function objectResource(bucket: string, key: string): ResourceRef {
  const owner = BUCKET_OWNER.get(bucket);
  return {
    type: "Object",
    id: `${bucket}/${key}`,
    parents: [{ type: "Bucket", id: bucket }, ...(owner === undefined ? [] : [{ type: "Tenant", id: owner }])],
  };
}

/** The AWS credentials the handler gets for each request it serves, and who wants to see them. */
export interface DemoApiCredentials {
  readonly source: TenantCredentialsSource;
  onCredentials(credentials: TenantCredentials): void;
}

export function createDemoApi(auth: TenantAuth, authorizer: Authorizer, credentials?: DemoApiCredentials): Express {
  const app = express();
  app.disable("x-powered-by");

  app.use(tenantAuth(auth)); // x-tenant-id selects among the caller's tenants

  app.get(
    "/buckets/:bucket/objects/:key",
    authorize(authorizer, {
      action: "ReadObject",
      resource: (req) => objectResource(String(req.params.bucket), String(req.params.key)),
    }),
    async (req, res) => {
      const principal = req.tenant!;
      // The AWS credentials this request would read S3 with: the role of the tenant it acts for,
      // whatever cognito:preferred_role says. (A refusal here is a TenantAuthError, answered below.)
      const aws = credentials ? await credentials.source.forPrincipal(principal) : undefined;
      if (aws) credentials!.onCredentials(aws);
      res.json({
        bucket: req.params.bucket,
        key: req.params.key,
        user: principal.username,
        tenant: principal.tenantId,
        role: principal.preferredRole?.name,
        ...(aws ? { credentialsRole: aws.roleArn.slice(aws.roleArn.lastIndexOf("/") + 1) } : {}),
      });
    },
  );

  app.use(tenantAuthErrorHandler());
  return app;
}

/**
 * An Authorizer that passes every request to `inner` and reports each decision to `onDecision`.
 * The `Authorizer` interface is one method, so decorating it is how you audit-log decisions; the
 * demo uses it to print the determining policies next to each response.
 */
export function observed(inner: Authorizer, onDecision: (decision: Decision, tenantId: string | undefined) => void): Authorizer {
  return {
    async isAuthorized(request) {
      const decision = await inner.isAuthorized(request);
      onDecision(decision, request.principal.tenantId);
      return decision;
    },
  };
}
