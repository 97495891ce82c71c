import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { parseIamRoleArn } from "../core/claims.js";
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, checkRoleSessionName, checkSessionPolicy, checkSessionTags } from "../credentials/sts-limits.js";
import type { AwsCredentialsEmulator } from "./aws-emulator-server.js";
import { AwsServiceError, credentialsEmulatorHandle, randomSecret, startLoopbackServer, temporaryAccessKeyId } from "./aws-emulator-server.js";
import type { IssuedCredentials } from "./cognito-identity-emulator.js";

/** Options of {@link startStsEmulator}. */
export interface StsEmulatorOptions {
  /** The roles that exist (ARNs); assuming another is `AccessDenied`. Default: any well-formed role ARN. */
  readonly roles?: readonly string[];
}

/**
 * A running STS emulator; `new STSClient(emulator.clientConfig)`, or `assumeRole.clientConfig`.
 * `setBehavior("throttle")` answers `Throttling`.
 */
export interface StsEmulator extends AwsCredentialsEmulator<"AssumeRole"> {
  /** What the credentials with this access key id were issued for: role, session tags, session policy, session name. */
  issued(accessKeyId: string): IssuedCredentials | undefined;
}

// The Query protocol's <Type>: Receiver for the service's own faults, Sender otherwise.
const RECEIVER = { fault: "Receiver" } as const;
const validation = (message: string) => new AwsServiceError("ValidationError", 400, message);

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Start a local AWS STS on 127.0.0.1 (port 0) that speaks its protocol (AWS Query: a form-encoded
 * `POST /` with `Action=AssumeRole&Version=2011-06-15&...`, XML answers and XML errors) for
 * `AssumeRole`, so the real `@aws-sdk/client-sts` works against it. It checks the input as STS
 * does (role session name, duration 900 to 43200 s, at most 50 session tags and their key/value
 * rules, a session policy of at most 2048 characters that is JSON) and answers `ValidationError`,
 * `MalformedPolicyDocument`, `AccessDenied` (a role not in `roles`), `Throttling` or
 * `InternalFailure` like the service. Signatures are not checked. `issued(accessKeyId)` tells
 * which role, tags and session policy a set of credentials carries.
 */
export async function startStsEmulator(options: StsEmulatorOptions = {}): Promise<StsEmulator> {
  const roles = options.roles ? new Set(options.roles) : undefined;
  const calls = { AssumeRole: 0 };
  const issued = new Map<string, IssuedCredentials>();

  function assumeRole(form: URLSearchParams): string {
    const roleArn = form.get("RoleArn");
    const sessionName = form.get("RoleSessionName");
    if (roleArn === null || roleArn.length < 20 || roleArn.length > 2048) throw validation("1 validation error detected: Value at 'roleArn' failed to satisfy constraint");
    if (sessionName === null) throw validation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
    try {
      checkRoleSessionName(sessionName);
    } catch (err) {
      throw validation(`1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: ${(err as Error).message}`);
    }
    const durationText = form.get("DurationSeconds");
    const duration = durationText === null ? 3600 : Number(durationText);
    if (!Number.isInteger(duration) || duration < MIN_DURATION_SECONDS || duration > MAX_DURATION_SECONDS) {
      throw validation(`1 validation error detected: Value '${durationText}' at 'durationSeconds' failed to satisfy constraint`);
    }
    const tags: Record<string, string> = {};
    for (let i = 1; form.has(`Tags.member.${i}.Key`); i++) {
      const key = form.get(`Tags.member.${i}.Key`) as string;
      if (Object.hasOwn(tags, key)) throw validation("Duplicate tag keys found. Please note that Tag keys are case insensitive.");
      tags[key] = form.get(`Tags.member.${i}.Value`) ?? "";
    }
    try {
      checkSessionTags(tags);
    } catch (err) {
      throw validation((err as Error).message);
    }
    const policy = form.get("Policy") ?? undefined;
    if (policy !== undefined) {
      try {
        checkSessionPolicy(policy);
      } catch (err) {
        throw validation((err as Error).message);
      }
      try {
        const doc: unknown = JSON.parse(policy);
        if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new TypeError("not an object");
      } catch {
        throw new AwsServiceError("MalformedPolicyDocument", 400, "The policy is not in the valid JSON format.");
      }
    }
    const role = parseIamRoleArn(roleArn);
    if (!role || (roles && !roles.has(roleArn))) {
      throw new AwsServiceError("AccessDenied", 403, `User: arn:aws:iam::000000000000:user/emulator is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    const accessKeyId = temporaryAccessKeyId();
    const expiration = new Date(Math.floor(Date.now() / 1000 + duration) * 1000);
    issued.set(accessKeyId, Object.freeze({ roleArn, tags: Object.freeze({ ...tags }), sessionPolicy: policy, identityId: undefined, roleSessionName: sessionName, expiration }));
    const roleId = `AROA${accessKeyId.slice(4)}`;
    return (
      `<AssumeRoleResponse xmlns="${XMLNS}"><AssumeRoleResult>` +
      `<SourceIdentity></SourceIdentity>` +
      `<AssumedRoleUser><Arn>${xml(`arn:${role.partition}:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`)}</Arn><AssumedRoleId>${xml(`${roleId}:${sessionName}`)}</AssumedRoleId></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${xml(randomSecret(30))}</SecretAccessKey><SessionToken>${xml(randomSecret(96))}</SessionToken><Expiration>${expiration.toISOString()}</Expiration></Credentials>` +
      `<PackedPolicySize>${Math.min(100, Math.ceil(((policy?.length ?? 0) + JSON.stringify(tags).length) / 40))}</PackedPolicySize>` +
      `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`
    );
  }

  function send(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() }).end(body);
  }
  function fail(res: ServerResponse, err: AwsServiceError): void {
    send(
      res,
      err.status,
      `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${err.extra["fault"] === "Receiver" ? "Receiver" : "Sender"}</Type><Code>${xml(err.type)}</Code><Message>${xml(err.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );
  }

  const server = await startLoopbackServer(async (req, raw, res) => {
    const form = new URLSearchParams(raw);
    if (req.method !== "POST" || form.get("Action") !== "AssumeRole" || form.get("Version") !== "2011-06-15") {
      return fail(res, new AwsServiceError("InvalidAction", 400, `Could not find operation ${form.get("Action") ?? ""} for version ${form.get("Version") ?? ""}`));
    }
    calls.AssumeRole++;
    const behavior = server.takeBehavior();
    if (behavior === "hang") return;
    if (behavior === "error") return fail(res, new AwsServiceError("InternalFailure", 500, "emulated internal error", RECEIVER));
    if (behavior === "throttle") return fail(res, new AwsServiceError("Throttling", 400, "Rate exceeded"));
    try {
      send(res, 200, assumeRole(form));
    } catch (err) {
      if (err instanceof AwsServiceError) return fail(res, err);
      return fail(res, new AwsServiceError("InternalFailure", 500, (err as Error).message, RECEIVER));
    }
  });

  return credentialsEmulatorHandle(server, calls, issued);
}
