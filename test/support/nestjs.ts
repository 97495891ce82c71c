// Nest apps for the tests, built without decorator syntax (the repository compiles without
// experimentalDecorators, and vitest's esbuild emits no decorator metadata): Nest's decorators are
// applied as functions, and every injection names its token.
import "reflect-metadata";
import type { AddressInfo } from "node:net";
import type { INestApplication, Provider, Type } from "@nestjs/common";
import { Controller, Get, Module, UseGuards } from "@nestjs/common";
import { APP_GUARD, NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter } from "@nestjs/platform-fastify";
import type { DynamicModule } from "@nestjs/common";
import { Tenant, TenantAuthGuard } from "../../src/adapters/nestjs.js";
import type { TenantPrincipal } from "../../src/adapters/nestjs.js";

export type NestPlatform = "express" | "fastify";

/** One route of a test controller: `GET <path>`, with these decorators, answering `{ tenantId }` (or `handler`'s answer). */
export interface TestRoute {
  path: string;
  decorators?: (MethodDecorator | ((target: object, key: string | symbol, descriptor: PropertyDescriptor) => unknown))[];
  handler?: (tenant: TenantPrincipal | undefined) => unknown;
  /** `false`: the handler takes no `@Tenant()` parameter. */
  tenant?: false;
}

let counter = 0;

/**
 * A controller class with these routes; `guarded` puts `@UseGuards(TenantAuthGuard)` on the class,
 * `classDecorators` adds others (`@RequireGroups(...)` on the whole controller, say).
 */
export function testController(prefix: string, routes: TestRoute[], options: { guarded?: boolean; classDecorators?: ClassDecorator[] } = {}): Type {
  const cls = class {} as Type;
  Object.defineProperty(cls, "name", { value: `TestController${++counter}` });
  routes.forEach((route, i) => {
    const name = `route${i}`;
    const handler = route.handler ?? ((tenant: TenantPrincipal | undefined) => ({ tenantId: tenant?.tenantId ?? null }));
    Object.defineProperty(cls.prototype, name, { value: handler, writable: true, configurable: true });
    if (route.tenant !== false) Tenant()(cls.prototype, name, 0);
    const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)!;
    const decorated = Reflect.decorate([Get(route.path), ...(route.decorators ?? [])] as MethodDecorator[], cls.prototype, name, descriptor) as PropertyDescriptor | undefined;
    Object.defineProperty(cls.prototype, name, decorated ?? descriptor);
  });
  const classDecorators: ClassDecorator[] = [Controller(prefix), ...(options.classDecorators ?? [])];
  if (options.guarded === true) classDecorators.push(UseGuards(TenantAuthGuard));
  Reflect.decorate(classDecorators, cls);
  return cls;
}

/** A root module importing `tenantModule`, with these controllers; `globalGuard` registers the guard as APP_GUARD. */
export function testModule(tenantModule: DynamicModule, controllers: Type[], options: { globalGuard?: boolean; providers?: Provider[] } = {}): Type {
  const cls = class {} as Type;
  Object.defineProperty(cls, "name", { value: `TestModule${++counter}` });
  const providers: Provider[] = [...(options.providers ?? [])];
  if (options.globalGuard === true) providers.push({ provide: APP_GUARD, useClass: TenantAuthGuard });
  Module({ imports: [tenantModule], controllers, providers })(cls);
  return cls;
}

/** A started Nest app on 127.0.0.1, port 0. */
export interface StartedNest {
  app: INestApplication;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startNest(platform: NestPlatform, rootModule: Type): Promise<StartedNest> {
  const adapter = platform === "express" ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(rootModule, adapter, { logger: false, abortOnError: false });
  await app.listen(0, "127.0.0.1");
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
