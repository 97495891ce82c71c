/**
 * The policy store's side of the entity mapping: which entity types its identity source gives
 * principals and groups. Policies are written against those types (`principal in
 * AWS::CognitoGroup::"<pool>|admins"`), so the entities this library sends must use them too, and
 * an option that says otherwise is a mistake to report at start, not a silent deny on every request.
 */

/** The group entity type of a Cognito identity source that sets none (the service's default). */
export const DEFAULT_GROUP_ENTITY_TYPE = "AWS::CognitoGroup";

/** The reads this module makes. */
export type StoreReadOperation = "GetPolicyStore" | "ListIdentitySources" | "GetIdentitySource";

/** Make one read call; rejects with the SDK's error. */
export type StoreReader = (operation: StoreReadOperation, input: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

/** The entity types of one identity source of the store. */
export interface IdentitySourceTypes {
  readonly identitySourceId: string;
  readonly principalEntityType: string;
  /** `undefined` for an OpenID Connect source without group configuration. */
  readonly groupEntityType: string | undefined;
}

/** The entity types the authorizer maps to (fully qualified), or `undefined`: keep the options' defaults. */
export interface EntityTypes {
  readonly userEntityType?: string;
  readonly groupEntityType?: string;
}

type SdkModule = typeof import("@aws-sdk/client-verifiedpermissions");

const METHODS: Record<StoreReadOperation, "getPolicyStore" | "listIdentitySources" | "getIdentitySource"> = {
  GetPolicyStore: "getPolicyStore",
  ListIdentitySources: "listIdentitySources",
  GetIdentitySource: "getIdentitySource",
};

/**
 * A reader over the client: the SDK client (`send` with the SDK's commands) or the aggregated one
 * (its methods). `undefined` for a hand-made client with only the authorization methods: nothing
 * can be read, and the mapping comes from the options alone.
 */
export function storeReader(client: object, loadSdk: () => Promise<SdkModule>): StoreReader | undefined {
  const c = client as Record<string, unknown>;
  if (typeof c["send"] === "function") {
    return async (operation, input, signal) => {
      const m = await loadSdk();
      const commands: Record<StoreReadOperation, new (input: never) => unknown> = {
        GetPolicyStore: m.GetPolicyStoreCommand as never,
        ListIdentitySources: m.ListIdentitySourcesCommand as never,
        GetIdentitySource: m.GetIdentitySourceCommand as never,
      };
      const Command = commands[operation];
      return (c["send"] as (command: unknown, o: unknown) => Promise<unknown>).call(client, new Command(input as never), { abortSignal: signal });
    };
  }
  if (Object.values(METHODS).every((name) => typeof c[name] === "function")) {
    return (operation, input, signal) => (c[METHODS[operation]] as (i: unknown, o: unknown) => Promise<unknown>).call(client, input, { abortSignal: signal });
  }
  return undefined;
}

/** Why the store could not be read, in words an operator can act on. */
function readError(policyStoreId: string, operation: StoreReadOperation, err: unknown): Error {
  const e = err as { name?: unknown; message?: unknown } | null;
  const name = typeof e?.name === "string" ? e.name : "Error";
  const hint: Record<string, string> = {
    ResourceNotFoundException: "no policy store with this id in the client's account and region: check policyStoreId and region",
    ValidationException: "the service refused the request: check that policyStoreId is a policy store id (or policy-store-alias/<name>)",
    AccessDeniedException: `the credentials may not call verifiedpermissions:${operation}: grant it (the authorizer reads the store and its identity source at start)`,
    UnrecognizedClientException: "the credentials are not valid for this region",
  };
  const detail = typeof e?.message === "string" && e.message !== "" ? `: ${e.message}` : "";
  return new Error(`policy store ${JSON.stringify(policyStoreId)} could not be read (${operation}): ${name}${detail}${hint[name] ? `; ${hint[name]}` : ""}`, { cause: err });
}

interface ConfigurationLike {
  cognitoUserPoolConfiguration?: { groupConfiguration?: { groupEntityType?: unknown } };
  openIdConnectConfiguration?: { groupConfiguration?: { groupEntityType?: unknown } };
}

function typesOf(identitySourceId: string, principalEntityType: unknown, configuration: ConfigurationLike | undefined): IdentitySourceTypes | undefined {
  if (typeof principalEntityType !== "string" || !configuration) return undefined;
  if (configuration.cognitoUserPoolConfiguration) {
    const group = configuration.cognitoUserPoolConfiguration.groupConfiguration?.groupEntityType;
    return { identitySourceId, principalEntityType, groupEntityType: typeof group === "string" ? group : DEFAULT_GROUP_ENTITY_TYPE };
  }
  if (configuration.openIdConnectConfiguration) {
    const group = configuration.openIdConnectConfiguration.groupConfiguration?.groupEntityType;
    return { identitySourceId, principalEntityType, groupEntityType: typeof group === "string" ? group : undefined };
  }
  return undefined;
}

/**
 * Check that the policy store exists and is readable (`GetPolicyStore`), then list its identity
 * sources (`ListIdentitySources`, every page; `GetIdentitySource` for an item that comes without its
 * configuration). Rejects with an `Error` naming the failed call and the service's error (its `cause`).
 */
export async function readIdentitySources(read: StoreReader, policyStoreId: string, signal: AbortSignal): Promise<IdentitySourceTypes[]> {
  const call = async (operation: StoreReadOperation, input: Record<string, unknown>): Promise<Record<string, unknown>> => {
    try {
      const out = await read(operation, { policyStoreId, ...input }, signal);
      return typeof out === "object" && out !== null ? (out as Record<string, unknown>) : {};
    } catch (err) {
      throw readError(policyStoreId, operation, err);
    }
  };
  // One round trip for both: the first page does not depend on the store check, whose error, if
  // any, is the one to report (it names the cause: a wrong id, missing permissions).
  const [store, first] = await Promise.allSettled([call("GetPolicyStore", {}), call("ListIdentitySources", {})]);
  if (store.status === "rejected") throw store.reason;
  if (first.status === "rejected") throw first.reason;
  const out: IdentitySourceTypes[] = [];
  let nextToken: unknown;
  // A bound on pages, against a service (or a fake) that never stops handing out tokens.
  for (let page = 0; page < 100; page++) {
    const list = page === 0 ? first.value : await call("ListIdentitySources", nextToken !== undefined ? { nextToken } : {});
    const items = Array.isArray(list["identitySources"]) ? (list["identitySources"] as Record<string, unknown>[]) : [];
    for (const item of items) {
      const id = String(item?.["identitySourceId"]);
      let types = typesOf(id, item?.["principalEntityType"], item?.["configuration"] as ConfigurationLike | undefined);
      if (!types) {
        const full = await call("GetIdentitySource", { identitySourceId: id });
        types = typesOf(id, full["principalEntityType"], full["configuration"] as ConfigurationLike | undefined);
      }
      if (types) out.push(types);
    }
    nextToken = list["nextToken"];
    if (typeof nextToken !== "string" || nextToken === "") break;
  }
  return out;
}

const qualify = (namespace: string, type: string): string => (type.includes("::") || namespace === "" ? type : `${namespace}::${type}`);

/**
 * The entity types to map to: the identity source's, which explicit options must agree with. A
 * store without identity source keeps the options (and their defaults), except in token mode,
 * where the service would have nothing to build the principal from.
 */
export function chooseEntityTypes(
  sources: readonly IdentitySourceTypes[],
  options: { readonly namespace: string; readonly userEntityType?: string | undefined; readonly groupEntityType?: string | undefined; readonly mode: "entities" | "withToken" },
  policyStoreId: string,
): EntityTypes {
  const store = `policy store ${JSON.stringify(policyStoreId)}`;
  if (sources.length === 0) {
    if (options.mode === "withToken") throw new Error(`${store} has no identity source: mode "withToken" needs one to build the principal from the token`);
    return {};
  }
  const user = options.userEntityType !== undefined ? qualify(options.namespace, options.userEntityType) : undefined;
  const group = options.groupEntityType !== undefined ? qualify(options.namespace, options.groupEntityType) : undefined;
  const matching = sources.filter((s) => (user === undefined || s.principalEntityType === user) && (group === undefined || s.groupEntityType === group));
  const describe = (s: IdentitySourceTypes) =>
    `principalEntityType ${JSON.stringify(s.principalEntityType)}, groupEntityType ${s.groupEntityType === undefined ? "none" : JSON.stringify(s.groupEntityType)}`;
  if (matching.length === 0) {
    const given = [user !== undefined ? `userEntityType ${JSON.stringify(user)}` : "", group !== undefined ? `groupEntityType ${JSON.stringify(group)}` : ""].filter(Boolean).join(" and ");
    throw new TypeError(
      `createVerifiedPermissionsAuthorizer: ${given} do${user !== undefined && group !== undefined ? "" : "es"} not match the identity source of ${store} (${sources.map(describe).join("; ")}): ` +
        "policies are written against the identity source's types; remove the option(s) to use them, or correct them",
    );
  }
  const distinct = new Map(matching.map((s) => [`${s.principalEntityType}\u0000${s.groupEntityType ?? ""}`, s]));
  if (distinct.size > 1) {
    throw new TypeError(
      `createVerifiedPermissionsAuthorizer: ${store} has identity sources with different entity types (${[...distinct.values()].map(describe).join("; ")}): give userEntityType and groupEntityType to choose`,
    );
  }
  const chosen = matching[0]!;
  return { userEntityType: chosen.principalEntityType, ...(chosen.groupEntityType !== undefined ? { groupEntityType: chosen.groupEntityType } : {}) };
}
