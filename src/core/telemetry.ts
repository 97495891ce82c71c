/**
 * OpenTelemetry spans, when the app has `@opentelemetry/api` (an optional peer). The core imports
 * nothing of it: the first engine or `createTenantAuth` starts a dynamic import, and until it
 * resolves, or when the package is absent, every hook below is one `undefined` check.
 *
 * The specifier is built at run time so that bundlers (esbuild, webpack) neither inline the API
 * nor fail the build of an app that does not have it; the app's own copy is found at run time,
 * and the API's global registry makes any copy see the app's tracer provider.
 *
 * Spans carry ids and outcomes only: never token text, never claim values other than ids.
 */

/** The slice of `@opentelemetry/api`'s Span we use. */
export interface TelemetrySpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

type Attributes = Record<string, string | number | boolean | undefined>;

interface Tracer {
  startSpan(name: string, options?: { attributes?: Record<string, string | number | boolean>; kind?: number }, context?: unknown): TelemetrySpan;
}

interface TracerProvider {
  getTracer(name: string): Tracer;
  /** On the API's proxy provider: the registered SDK's tracer, or undefined while none is. */
  getDelegateTracer?(name: string): Tracer | undefined;
}

interface OtelApi {
  trace: { getTracerProvider(): TracerProvider; setSpan(context: unknown, span: TelemetrySpan): unknown };
  context: { active(): unknown };
}

/** The span names this library emits. */
export type SpanName = "cognito_tenancy.resolve_tenant" | "cognito_tenancy.verify" | "cognito_tenancy.jwks_fetch" | "cognito_tenancy.authorize";

const SPAN_STATUS_ERROR = 2;
const SPAN_KIND_CLIENT = 3;

const NAME = "cognito-tenancy";
let api: OtelApi | undefined;
let provider: TracerProvider | undefined;
let loading: Promise<void> | undefined;

/**
 * The tracer of the app's registered SDK. With the API installed but no SDK registered (a
 * library brought it in), there is none, and no span is even started: the API's no-op spans
 * would still cost allocations on every request.
 */
function currentTracer(): Tracer | undefined {
  const p = provider;
  if (p === undefined) return undefined;
  return p.getDelegateTracer ? p.getDelegateTracer(NAME) : p.getTracer(NAME);
}

/** Whether spans are recorded now: the hot paths ask this and skip everything else when not. */
export const tracing = {
  get on(): boolean {
    return provider !== undefined && currentTracer() !== undefined;
  },
};

/** Start looking for `@opentelemetry/api` (once); spans begin when it has loaded. */
export function startTelemetry(): Promise<void> {
  loading ??= (async () => {
    try {
      const specifier = ["@opentelemetry", "api"].join("/");
      const loaded = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as OtelApi & { default?: OtelApi };
      const module = loaded.trace ? loaded : loaded.default;
      if (module?.trace && module.context) {
        api = module;
        provider = module.trace.getTracerProvider();
      }
    } catch {
      // Not installed (or not loadable in this runtime): no spans.
    }
  })();
  return loading;
}

function clean(attributes: Attributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * Start a span if tracing is on. `parent` nests it under one of ours (verification under
 * tenant resolution); otherwise it is a child of the app's active span.
 */
export function startSpan(name: SpanName, attributes: Attributes = {}, parent?: TelemetrySpan, client = false): TelemetrySpan | undefined {
  const t = currentTracer();
  if (t === undefined) return undefined;
  const context = parent !== undefined && api !== undefined ? api.trace.setSpan(api.context.active(), parent) : undefined;
  return t.startSpan(name, { attributes: clean(attributes), ...(client ? { kind: SPAN_KIND_CLIENT } : {}) }, context);
}

/**
 * End a span with its outcome. An error is recorded by its code only (`error.type` and the
 * span status message): messages can quote unverified input.
 */
export function endSpan(span: TelemetrySpan | undefined, error?: unknown, attributes?: Attributes): void {
  if (span === undefined) return;
  if (attributes !== undefined) for (const [key, value] of Object.entries(attributes)) if (value !== undefined) span.setAttribute(key, value);
  if (error !== undefined) {
    const code = typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string" ? (error as { code: string }).code : "error";
    span.setAttribute("error.type", code);
    span.setStatus({ code: SPAN_STATUS_ERROR, message: code });
  }
  span.end();
}

/** Run `work` inside a span (if tracing is on) and end it with the outcome. */
export async function traced<T>(name: SpanName, attributes: Attributes, work: (span: TelemetrySpan | undefined) => Promise<T>, finish?: (result: T) => Attributes, client = false): Promise<T> {
  const span = startSpan(name, attributes, undefined, client);
  if (span === undefined) return work(undefined);
  try {
    const result = await work(span);
    endSpan(span, undefined, finish?.(result));
    return result;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

/** The slice of an authorization request and decision a span records. */
interface DecisionLike {
  readonly decision: string;
  readonly determiningPolicies: readonly string[];
}
type ActionLike = string | { readonly type?: string; readonly id: string };

/**
 * An authorization in a span (engine, action, resource type, tenant; then the decision), when
 * tracing is on; otherwise `run` is called directly. `run` gets the span to mark a cache hit.
 */
export function traceDecision<D extends DecisionLike>(
  engine: string,
  request: { readonly action: ActionLike; readonly resource: { readonly type: string }; readonly principal: { readonly tenantId?: string | undefined } },
  run: (span: TelemetrySpan | undefined) => Promise<D>,
): Promise<D> {
  // The request is not checked yet (the engine does that, and refuses it with a 503): read it
  // defensively, so a malformed one is refused the same with tracing on as off.
  const action = (request as { action?: unknown }).action;
  const actionId = typeof action === "string" ? action : (action as { id?: unknown } | null | undefined)?.id;
  const resourceType = ((request as { resource?: unknown }).resource as { type?: unknown } | null | undefined)?.type;
  const tenantId = ((request as { principal?: unknown }).principal as { tenantId?: unknown } | null | undefined)?.tenantId;
  const span = startSpan("cognito_tenancy.authorize", {
    "cognito_tenancy.engine": engine,
    "cognito_tenancy.action": typeof actionId === "string" ? actionId : undefined,
    "cognito_tenancy.resource_type": typeof resourceType === "string" ? resourceType : undefined,
    "cognito_tenancy.tenant_id": typeof tenantId === "string" ? tenantId : undefined,
  });
  if (span === undefined) return run(undefined);
  return run(span).then(
    (decision) => {
      endSpan(span, undefined, { "cognito_tenancy.decision": decision.decision, "cognito_tenancy.determining_policies": decision.determiningPolicies.length });
      return decision;
    },
    (err: unknown) => {
      endSpan(span, err);
      throw err;
    },
  );
}
