/**
 * `cognito-tenancy inspect | verify | decide`: the library's pipeline from a terminal, for
 * debugging a 401 or a 403. Every command reads the token from its argument or from stdin,
 * never prints a whole token (a token is a credential; terminals and CI logs keep it), and exits
 * 0 when the token passes (allowed), 1 when it is refused (denied), 2 on a usage error.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { ParseArgsConfig } from "node:util";
import { decomposeUnverifiedJwt } from "aws-jwt-verify/jwt";
import type { TenantPrincipal } from "../core/principal.js";
import { principalFromClaims } from "../core/principal.js";
import { createTenantAuth } from "../core/tenant-auth.js";
import type { TenantStrategy } from "../core/tenancy.js";
import type { UserPoolConfig } from "../core/verify.js";
import { isTenantAuthError } from "../core/errors.js";
import { extractToken } from "../core/extract-token.js";

/** Where the CLI reads and writes; the real process streams, or test doubles. */
export interface CliIo {
  readonly stdin: AsyncIterable<Buffer | string> & { readonly isTTY?: boolean };
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** The clock, for "expires in 5 min"; default `Date.now`. */
  readonly now?: () => number;
}

/** A usage mistake: exit code 2 with the command's help. */
class UsageError extends Error {}

const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

const COMMON = {
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  hint: { type: "string" },
  "group-pattern": { type: "string" },
  "tenant-claim": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const POOL = {
  pool: { type: "string" },
  client: { type: "string", multiple: true },
  "token-use": { type: "string" },
  issuer: { type: "string" },
  jwks: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const HELP: Record<string, string> = {
  main: `Usage: cognito-tenancy <command> [options] [token]

Commands:
  inspect   decode a token WITHOUT verifying it: header, claims, times, the principal, warnings
  verify    verify a token against a user pool (JWKS URL or file, offline with a file)
  decide    a local Cedar decision for a token, an action and a resource

The token is the last argument, or read from stdin when it is missing or "-"; "Bearer <token>"
is accepted. A whole token is never printed. Exit status: 0 passes or allowed, 1 refused or
denied, 2 usage error. "cognito-tenancy <command> --help" for each command's options.
`,
  inspect: `Usage: cognito-tenancy inspect [options] [token]

Decodes the token WITHOUT checking its signature, issuer or audience, and shows what the library
would make of it. Exits 1 when it would be refused whatever the signature (malformed, expired,
no tenant), else 0.

Options:
  --hint <tenant>          the tenant the request would ask for (x-tenant-id)
  --group-pattern <regex>  groups strategy pattern with (?<tenant>...) and optional (?<role>...)
  --tenant-claim <claim>   use the claim strategy instead (e.g. custom:tenant_id)
  --json                   machine-readable output
`,
  verify: `Usage: cognito-tenancy verify --pool <userPoolId> [options] [token]

Verifies the token as createTenantAuth would (signature, issuer, exp, token_use, client id) and
resolves its tenant. Exits 0 when it passes, 1 with the error code when it is refused.

Options:
  --pool <id>              the user pool id (required), e.g. us-east-1_AbC123
  --client <id>            an app client id the token must be issued to (repeatable; omitted:
                           any client, with a warning)
  --token-use <id|access>  the token use to require (default: either)
  --issuer <url>           the issuer, for emulators (default: the AWS issuer of --pool)
  --jwks <file|url>        the keys: a JWKS file (offline) or URL (default: <issuer>/.well-known/jwks.json)
  --hint <tenant>          the tenant to act for
  --group-pattern <regex>, --tenant-claim <claim>   as for inspect
  --json                   machine-readable output
`,
  decide: `Usage: cognito-tenancy decide --policies <dir|file> --namespace <ns> --action <id> --resource <Type::id> [options] [token]

Evaluates the policies with local Cedar for the token's principal, as createCedarAuthorizer
would. With --pool the token is verified first; without it the token is only decoded, and the
output says so. Exits 0 on ALLOW, 1 on DENY or a refused token.

Options:
  --policies <dir|file>    Cedar policies: a .cedar file, or a folder of them (ids from @id("..."))
  --schema <file>          a Cedar schema (.cedarschema text or .json)
  --namespace <ns>         the schema namespace (default: the schema's only namespace)
  --action <id>            the action id, e.g. ReadObject
  --resource <Type::id>    the resource, e.g. Bucket::acme-assets or Object::"acme-assets/a.txt"
  --context <json>         the request context as a JSON object
  --entities <file>        more entities (Cedar JSON entity list), e.g. buckets and their tenants
  --tenant-entity-type <t> model tenants as entities of this type
  --pool, --client, --token-use, --issuer, --jwks   verify first, as for verify
  --hint, --group-pattern, --tenant-claim, --json   as for inspect
`,
};

/** Run the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "inspect":
        return await inspect(rest, io);
      case "verify":
        return await verify(rest, io);
      case "decide":
        return await decide(rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(HELP["main"] as string);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))) {
      const help = HELP[command ?? "main"] ?? HELP["main"];
      io.stderr.write(`cognito-tenancy: ${err.message}\n\n${help}`);
      return EXIT.usage;
    }
    throw err;
  }
}

function parse<O extends NonNullable<ParseArgsConfig["options"]>>(args: readonly string[], options: O) {
  return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
}

async function readToken(positionals: readonly string[], io: CliIo): Promise<string> {
  if (positionals.length > 1) throw new UsageError("give one token");
  let text = positionals[0];
  if (text === undefined || text === "-") {
    if (text === undefined && io.stdin.isTTY) throw new UsageError("no token: give it as the last argument or on stdin");
    text = "";
    for await (const chunk of io.stdin) text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
  }
  text = text.trim();
  if (text === "") throw new UsageError("no token: give it as the last argument or on stdin");
  return text;
}

function strategyFrom(values: { "group-pattern"?: string | undefined; "tenant-claim"?: string | undefined }): TenantStrategy {
  if (values["group-pattern"] !== undefined && values["tenant-claim"] !== undefined) {
    throw new UsageError("--group-pattern and --tenant-claim are two strategies: give one");
  }
  if (values["tenant-claim"] !== undefined) return { from: "claim", claim: values["tenant-claim"] };
  if (values["group-pattern"] !== undefined) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(values["group-pattern"], "u");
    } catch (err) {
      throw new UsageError(`--group-pattern is not a regular expression: ${(err as Error).message}`);
    }
    return { from: "groups", pattern };
  }
  return { from: "groups" };
}

/** What stands in for the token in output: a short prefix, its length and a fingerprint. */
function tokenLabel(token: string): string {
  const digest = createHash("sha256").update(token).digest("hex").slice(0, 12);
  return `${token.slice(0, 10)}… (${token.length} characters, sha256 ${digest})`;
}

function relative(ms: number, now: number): string {
  const delta = Math.round((ms - now) / 1000);
  const size = Math.abs(delta);
  const text = size < 120 ? `${size} s` : size < 7200 ? `${Math.round(size / 60)} min` : size < 172_800 ? `${Math.round(size / 3600)} h` : `${Math.round(size / 86_400)} days`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

function principalSummary(p: TenantPrincipal): Record<string, unknown> {
  return {
    sub: p.sub,
    username: p.username,
    userPoolId: p.userPoolId,
    clientId: p.clientId,
    tokenUse: p.tokenUse,
    tenantId: p.tenantId ?? null,
    tenantRoles: p.tenantRoles,
    tenants: p.tenants.map((t) => ({ tenantId: t.tenantId, roles: t.roles })),
    groups: p.groups,
    roles: p.roles.map((r) => r.arn),
    preferredRole: p.preferredRole?.arn ?? null,
    scopes: p.scopes,
  };
}

function printPrincipal(out: string[], p: TenantPrincipal): void {
  const tenants = p.tenants.map((t) => (t.roles.length > 0 ? `${t.tenantId} [${t.roles.join(", ")}]` : t.tenantId));
  out.push(`  user         ${p.username ?? "?"} (sub ${p.sub}) in ${p.userPoolId}`);
  out.push(`  tenant       ${p.tenantId ?? "(none)"}${p.tenantRoles.length > 0 ? `, roles ${p.tenantRoles.join(", ")}` : ""}`);
  out.push(`  tenants      ${tenants.length > 0 ? tenants.join("; ") : "(none)"}`);
  out.push(`  groups       ${p.groups.length > 0 ? p.groups.join(", ") : "(none)"}`);
  if (p.roles.length > 0) out.push(`  IAM roles    ${p.roles.map((r) => r.arn).join(", ")}`);
  if (p.preferredRole) out.push(`  preferred    ${p.preferredRole.arn}`);
  if (p.scopes.length > 0) out.push(`  scopes       ${p.scopes.join(" ")}`);
}

function errorSummary(err: unknown): { code: string; status: number; message: string; cause?: string } {
  if (isTenantAuthError(err)) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return { code: err.code, status: err.status, message: err.message, ...(cause !== undefined ? { cause } : {}) };
  }
  return { code: "error", status: 500, message: err instanceof Error ? err.message : String(err) };
}

function write(io: CliIo, json: boolean, data: unknown, lines: string[]): void {
  io.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${lines.join("\n")}\n`);
}

interface Decoded {
  token: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

function decode(raw: string): Decoded {
  const token = extractToken(raw);
  const { header, payload } = decomposeUnverifiedJwt(token);
  return { token, header: header as Record<string, unknown>, payload: payload as Record<string, unknown> };
}

/** What the payload says about itself, and what would refuse it whatever the signature. */
interface Facts {
  issuer: string | null;
  userPoolId: string | null;
  tokenUse: unknown;
  clientId: unknown;
  issuedAt: string | null;
  expiresAt: string | null;
  expired: boolean | null;
}

function examine(d: Decoded, now: number): { warnings: string[]; facts: Facts } {
  const warnings: string[] = [];
  const p = d.payload;
  const iss = typeof p["iss"] === "string" ? p["iss"] : undefined;
  const cognito = iss !== undefined && /^https:\/\/(issuer-)?cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/[\w-]+_\w+$/.test(iss);
  if (iss === undefined) warnings.push("no iss claim: no pool would accept it");
  else if (!cognito) warnings.push("iss is not an AWS Cognito issuer (fine for an emulator pool configured with issuer)");
  const exp = typeof p["exp"] === "number" ? p["exp"] * 1000 : undefined;
  if (exp === undefined) warnings.push("no numeric exp claim: refused (token_invalid)");
  else if (exp <= now) warnings.push(`expired ${relative(exp, now)} (token_expired)`);
  const nbf = typeof p["nbf"] === "number" ? p["nbf"] * 1000 : undefined;
  if (nbf !== undefined && nbf > now) warnings.push(`not valid before ${new Date(nbf).toISOString()} (token_expired)`);
  const use = p["token_use"];
  if (use !== "id" && use !== "access") warnings.push(`token_use is ${JSON.stringify(use)}: Cognito tokens say "id" or "access"`);
  if (use === "access" && p["cognito:roles"] !== undefined) warnings.push("an access token with cognito:roles: Cognito puts roles in ID tokens only");
  if (d.header["alg"] !== "RS256") warnings.push(`alg ${JSON.stringify(d.header["alg"])}: Cognito signs with RS256`);
  const iat = typeof p["iat"] === "number" ? p["iat"] * 1000 : undefined;
  const facts: Facts = {
    issuer: iss ?? null,
    userPoolId: iss?.split("/").pop() ?? null,
    tokenUse: use ?? null,
    clientId: (use === "access" ? p["client_id"] : p["aud"]) ?? null,
    issuedAt: iat !== undefined ? new Date(iat).toISOString() : null,
    expiresAt: exp !== undefined ? new Date(exp).toISOString() : null,
    expired: exp !== undefined ? exp <= now : null,
  };
  return { warnings, facts };
}

async function inspect(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, COMMON);
  if (values.help) {
    io.stdout.write(HELP["inspect"] as string);
    return EXIT.ok;
  }
  const strategy = strategyFrom(values);
  const raw = await readToken(positionals, io);
  const now = (io.now ?? Date.now)();
  let d: Decoded;
  try {
    d = decode(raw);
  } catch (err) {
    const e = errorSummary(err);
    write(io, values.json, { verified: false, decoded: false, error: e }, [`Not a decodable JWT: ${e.message}`]);
    return EXIT.refused;
  }
  const { warnings, facts } = examine(d, now);
  let principal: TenantPrincipal | undefined;
  let principalError: ReturnType<typeof errorSummary> | undefined;
  try {
    principal = await principalFromClaims(d.payload, { tenants: strategy, ...(values.hint !== undefined ? { tenantHint: values.hint } : {}) });
  } catch (err) {
    principalError = errorSummary(err);
    warnings.push(`the principal would be refused: ${principalError.code}: ${principalError.message}`);
  }
  const data = {
    verified: false,
    token: tokenLabel(d.token),
    header: d.header,
    ...facts,
    claims: d.payload,
    principal: principal ? principalSummary(principal) : null,
    ...(principalError ? { principalError } : {}),
    warnings,
  };
  const lines = [
    "UNVERIFIED: decoded without checking the signature, issuer or audience.",
    `token        ${tokenLabel(d.token)}`,
    `header       ${JSON.stringify(d.header)}`,
    `issuer       ${facts.issuer ?? "(none)"}`,
    `token_use    ${String(facts.tokenUse)}, client ${String(facts.clientId)}`,
    `issued       ${facts.issuedAt ?? "(no iat)"}${facts.issuedAt ? ` (${relative(Date.parse(facts.issuedAt), now)})` : ""}`,
    `expires      ${facts.expiresAt ?? "(no exp)"}${facts.expiresAt ? ` (${relative(Date.parse(facts.expiresAt), now)})` : ""}`,
    "claims",
    ...JSON.stringify(d.payload, null, 2)
      .split("\n")
      .map((l) => `  ${l}`),
    "principal (as the configured strategy would build it)",
  ];
  if (principal) printPrincipal(lines, principal);
  else lines.push(`  refused: ${principalError?.code}: ${principalError?.message}`);
  lines.push(warnings.length > 0 ? "warnings" : "warnings     none");
  for (const w of warnings) lines.push(`  - ${w}`);
  write(io, values.json, data, lines);
  return warnings.some((w) => /refused|expired|token_expired|no iss|no numeric exp/.test(w)) ? EXIT.refused : EXIT.ok;
}

interface PoolValues {
  pool?: string | undefined;
  client?: string[] | undefined;
  "token-use"?: string | undefined;
  issuer?: string | undefined;
  jwks?: string | undefined;
}

async function poolFrom(values: PoolValues): Promise<{ pool: UserPoolConfig; warnings: string[] }> {
  if (values.pool === undefined) throw new UsageError("--pool is required");
  const warnings: string[] = [];
  const use = values["token-use"];
  if (use !== undefined && use !== "id" && use !== "access") throw new UsageError("--token-use must be id or access");
  if (values.client === undefined) warnings.push("no --client: the token's app client was not checked");
  let keys: Partial<Pick<UserPoolConfig, "jwks" | "jwksUri">> = {};
  if (values.jwks !== undefined) {
    if (/^https?:\/\//.test(values.jwks)) {
      keys = { jwksUri: values.jwks };
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(values.jwks, "utf8"));
      } catch (err) {
        throw new UsageError(`--jwks ${values.jwks}: ${(err as Error).message}`);
      }
      keys = { jwks: parsed as { keys: object[] } };
    }
  }
  const pool: UserPoolConfig = {
    userPoolId: values.pool,
    clientId: values.client ?? null,
    tokenUse: (use as "id" | "access" | undefined) ?? null,
    ...(values.issuer !== undefined ? { issuer: values.issuer } : {}),
    ...keys,
  };
  return { pool, warnings };
}

/** Verify with the library itself; a configuration mistake is a usage error. */
async function verified(values: PoolValues & Parameters<typeof strategyFrom>[0] & { hint?: string | undefined }, token: string) {
  const { pool, warnings } = await poolFrom(values);
  let auth;
  try {
    auth = createTenantAuth({ userPools: [pool], tenants: strategyFrom(values), requireTenant: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  try {
    const principal = await auth.resolveTenant(token, { tenantHint: values.hint });
    return { principal, warnings };
  } catch (err) {
    return { error: errorSummary(err), warnings };
  }
}

async function verify(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON, ...POOL });
  if (values.help) {
    io.stdout.write(HELP["verify"] as string);
    return EXIT.ok;
  }
  const token = await readToken(positionals, io);
  const result = await verified(values, token);
  const lines: string[] = [];
  if ("principal" in result && result.principal) {
    lines.push(`VALID        ${tokenLabel(extractToken(token))}`);
    printPrincipal(lines, result.principal);
  } else {
    const e = (result as { error: ReturnType<typeof errorSummary> }).error;
    lines.push(`REFUSED      ${e.status} ${e.code}: ${e.message}`);
    if (e.cause) lines.push(`  cause      ${e.cause}`);
  }
  for (const w of result.warnings) lines.push(`  warning    ${w}`);
  const ok = "principal" in result && result.principal !== undefined;
  write(
    io,
    values.json,
    ok
      ? { valid: true, principal: principalSummary(result.principal as TenantPrincipal), warnings: result.warnings }
      : { valid: false, error: (result as { error: unknown }).error, warnings: result.warnings },
    lines,
  );
  return ok ? EXIT.ok : EXIT.refused;
}

const DECIDE = {
  ...COMMON,
  ...POOL,
  policies: { type: "string" },
  schema: { type: "string" },
  namespace: { type: "string" },
  action: { type: "string" },
  resource: { type: "string" },
  context: { type: "string" },
  entities: { type: "string" },
  "tenant-entity-type": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** `Type::id`, `Type::"id"` or `Ns::Type::"id"`: the type relative to the namespace, and the id. */
function parseResource(text: string, namespace: string): { type: string; id: string } {
  const m = /^(?<type>[A-Za-z_][\w]*(?:::[A-Za-z_][\w]*)*)::(?:"(?<quoted>(?:[^"\\]|\\.)*)"|(?<bare>[^"]+))$/.exec(text);
  if (!m?.groups) throw new UsageError(`--resource must look like Type::id or Type::"id", got ${JSON.stringify(text)}`);
  const { type, quoted, bare } = m.groups as { type: string; quoted?: string; bare?: string };
  const id = quoted !== undefined ? (JSON.parse(`"${quoted}"`) as string) : (bare as string);
  return { type: type.startsWith(`${namespace}::`) ? type.slice(namespace.length + 2) : type, id };
}

async function readPolicies(path: string): Promise<string> {
  const { readdir, stat } = await import("node:fs/promises");
  const { join } = await import("node:path");
  try {
    if ((await stat(path)).isDirectory()) {
      const files = (await readdir(path)).filter((f) => f.endsWith(".cedar")).sort();
      if (files.length === 0) throw new UsageError(`--policies ${path}: no .cedar files`);
      return (await Promise.all(files.map((f) => readFile(join(path, f), "utf8")))).join("\n");
    }
    return await readFile(path, "utf8");
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--policies ${path}: ${(err as Error).message}`);
  }
}

async function decide(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, DECIDE);
  if (values.help) {
    io.stdout.write(HELP["decide"] as string);
    return EXIT.ok;
  }
  for (const required of ["policies", "action", "resource"] as const) {
    if (values[required] === undefined) throw new UsageError(`--${required} is required`);
  }
  const policies = await readPolicies(values.policies as string);
  let schema: string | Record<string, unknown> | undefined;
  if (values.schema !== undefined) {
    const text = await readFile(values.schema, "utf8").catch((err: Error) => {
      throw new UsageError(`--schema ${values.schema}: ${err.message}`);
    });
    schema = values.schema.endsWith(".json") ? (JSON.parse(text) as Record<string, unknown>) : text;
  }
  let namespace = values.namespace;
  if (namespace === undefined && schema !== undefined) {
    const names = typeof schema === "string" ? [...schema.matchAll(/^\s*namespace\s+([\w:]+)/gm)].map((m) => m[1] as string) : Object.keys(schema);
    if (names.length === 1) namespace = names[0];
  }
  if (namespace === undefined) throw new UsageError("--namespace is required (or a --schema with one namespace)");
  let context: Record<string, unknown> | undefined;
  if (values.context !== undefined) {
    try {
      context = JSON.parse(values.context) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--context is not JSON: ${(err as Error).message}`);
    }
  }
  let entities: unknown[] | undefined;
  if (values.entities !== undefined) {
    try {
      entities = JSON.parse(await readFile(values.entities, "utf8")) as unknown[];
    } catch (err) {
      throw new UsageError(`--entities ${values.entities}: ${(err as Error).message}`);
    }
  }
  const resource = parseResource(values.resource as string, namespace);
  const token = await readToken(positionals, io);

  const warnings: string[] = [];
  let principal: TenantPrincipal;
  let isVerified = false;
  if (values.pool !== undefined) {
    const result = await verified(values, token);
    warnings.push(...result.warnings);
    if (!("principal" in result) || result.principal === undefined) {
      const e = (result as { error: ReturnType<typeof errorSummary> }).error;
      write(io, values.json, { verified: false, error: e, warnings }, [`REFUSED      ${e.status} ${e.code}: ${e.message}`, ...warnings.map((w) => `  warning    ${w}`)]);
      return EXIT.refused;
    }
    principal = result.principal;
    isVerified = true;
  } else {
    warnings.push("token not verified (give --pool and --jwks to verify it first)");
    try {
      const d = decode(token);
      principal = await principalFromClaims(d.payload, {
        tenants: strategyFrom(values),
        requireTenant: false,
        ...(values.hint !== undefined ? { tenantHint: values.hint } : {}),
      });
    } catch (err) {
      const e = errorSummary(err);
      write(io, values.json, { verified: false, error: e, warnings }, [`REFUSED      ${e.status} ${e.code}: ${e.message}`]);
      return EXIT.refused;
    }
  }

  const { createCedarAuthorizer } = await import("../authorizers/cedar.js");
  let authorizer;
  try {
    authorizer = createCedarAuthorizer({
      policies,
      namespace,
      ...(schema !== undefined ? { schema: schema as never } : {}),
      ...(entities !== undefined ? { entities } : {}),
      ...(values["tenant-entity-type"] !== undefined ? { tenantEntityType: values["tenant-entity-type"] } : {}),
    });
    await authorizer.ready();
  } catch (err) {
    throw new UsageError(`the policies cannot be used: ${(err as Error).message}${detailsOf(err)}`);
  }
  let decision;
  try {
    decision = await authorizer.isAuthorized({
      principal,
      action: values.action as string,
      resource,
      ...(context !== undefined ? { context } : {}),
    });
  } catch (err) {
    const e = errorSummary(err);
    write(io, values.json, { verified: isVerified, error: e, warnings }, [`ERROR        ${e.code}: ${e.message}${e.cause ? `\n  cause      ${e.cause}` : ""}`]);
    return EXIT.refused;
  }
  const considered = authorizer.policyIds;
  const lines = [
    `${decision.decision.padEnd(12)} ${namespace}::Action::"${values.action}" on ${namespace}::${resource.type}::${JSON.stringify(resource.id)}`,
    `  principal  ${namespace}::User::"${principal.userPoolId}|${principal.sub}" (${principal.username ?? "?"}), tenant ${principal.tenantId ?? "(none)"}${isVerified ? "" : " [UNVERIFIED]"}`,
    `  determined by ${decision.determiningPolicies.length > 0 ? decision.determiningPolicies.join(", ") : "no policy (default deny)"}`,
  ];
  if (decision.errors.length > 0) lines.push(...decision.errors.map((e) => `  error      ${e}`));
  if (!decision.allowed) lines.push(`  considered ${considered.join(", ")}`);
  for (const w of warnings) lines.push(`  warning    ${w}`);
  write(
    io,
    values.json,
    {
      verified: isVerified,
      decision: decision.decision,
      allowed: decision.allowed,
      determiningPolicies: decision.determiningPolicies,
      errors: decision.errors,
      consideredPolicies: considered,
      principal: principalSummary(principal),
      warnings,
    },
    lines,
  );
  return decision.allowed ? EXIT.ok : EXIT.refused;
}

function detailsOf(err: unknown): string {
  const details = (err as { details?: readonly { message?: string; policyId?: string }[] }).details;
  if (!Array.isArray(details) || details.length === 0) return "";
  return `\n${details.map((d) => `  ${d.policyId ? `${d.policyId}: ` : ""}${d.message ?? ""}`).join("\n")}`;
}
