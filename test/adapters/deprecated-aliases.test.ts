// The names renamed for one vocabulary stay, deprecated, as aliases of the new ones: the same type,
// or the same behaviour (the behaviour is checked beside each adapter's own tests).
import type { Request } from "express";
import { describe, expectTypeOf, it } from "vitest";
import type { HttpAdapterOptions } from "../../src/index.js";
import type { TenantAuthMiddlewareOptions as ExpressOptions } from "../../src/adapters/express.js";
import type { EventAuthOptions, LambdaHttpEvent, TenantAuthMiddlewareOptions as MiddyOptions, WithTenantOptions } from "../../src/adapters/lambda.js";
import type { TenantAuthPluginOptions } from "../../src/adapters/fastify.js";
import type { FastifyRequest } from "fastify";

describe("deprecated type aliases", () => {
  it("Express TenantAuthMiddlewareOptions is HttpAdapterOptions<Request>", () => {
    expectTypeOf<ExpressOptions>().toEqualTypeOf<HttpAdapterOptions<Request>>();
  });

  it("the Middy TenantAuthMiddlewareOptions is WithTenantOptions", () => {
    expectTypeOf<MiddyOptions>().toEqualTypeOf<WithTenantOptions>();
    expectTypeOf<MiddyOptions<LambdaHttpEvent>>().toEqualTypeOf<EventAuthOptions<LambdaHttpEvent>>();
  });

  it("every adapter's options extend the one HttpAdapterOptions", () => {
    expectTypeOf<TenantAuthPluginOptions>().toExtend<HttpAdapterOptions<FastifyRequest>>();
    expectTypeOf<WithTenantOptions>().toExtend<Omit<HttpAdapterOptions<LambdaHttpEvent>, "credentialsRequired">>();
  });
});
