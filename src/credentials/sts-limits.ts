/**
 * AWS STS's limits on `AssumeRole` input, checked before the call: a request STS would refuse is
 * refused here, with a message that names the limit, instead of costing a round trip and
 * surfacing as an opaque service error.
 */
import { createHash } from "node:crypto";

/** At most this many session tags per `AssumeRole`. */
export const MAX_SESSION_TAGS = 50;
/** Tag keys: 1 to 128 characters. */
export const MAX_TAG_KEY_LENGTH = 128;
/** Tag values: 0 to 256 characters. */
export const MAX_TAG_VALUE_LENGTH = 256;
/** The inline session policy's plaintext: at most 2048 characters. */
export const MAX_SESSION_POLICY_LENGTH = 2048;
/** `DurationSeconds`: 15 minutes to 12 hours (the role's maximum session duration may be lower). */
export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43_200;

// STS's tagKeyType / tagValueType pattern: letters, separators (spaces), numbers and _ . : / = + - @.
let tagPattern: RegExp | undefined;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
// sessionPolicyDocumentType: tab, line feed, carriage return and U+0020 to U+00FF.
const POLICY_CHARS = /^[\u0009\u000a\u000d\u0020-\u00ff]+$/;

/** A session policy or session tags STS would refuse; `message` names the limit. */
export class StsLimitError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "StsLimitError";
  }
}

/** Check session tags against STS's limits; throws {@link StsLimitError}. */
export function checkSessionTags(tags: Readonly<Record<string, string>>): void {
  tagPattern ??= /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  const keys = Object.keys(tags);
  if (keys.length > MAX_SESSION_TAGS) throw new StsLimitError(`at most ${MAX_SESSION_TAGS} session tags, got ${keys.length}`);
  const seen = new Set<string>();
  for (const key of keys) {
    const value = tags[key];
    if (key.length < 1 || key.length > MAX_TAG_KEY_LENGTH) throw new StsLimitError(`session tag keys are 1 to ${MAX_TAG_KEY_LENGTH} characters, got ${key.length}`);
    if (!tagPattern.test(key)) throw new StsLimitError(`session tag key ${JSON.stringify(key.slice(0, 40))} has a character STS does not allow`);
    if (key.toLowerCase().startsWith("aws:")) throw new StsLimitError("session tag keys must not start with aws:");
    // Tag keys are case-insensitive in IAM: two keys differing only in case are one tag, twice.
    const folded = key.toLowerCase();
    if (seen.has(folded)) throw new StsLimitError(`session tag key ${JSON.stringify(key.slice(0, 40))} is given twice (keys are case-insensitive)`);
    seen.add(folded);
    if (typeof value !== "string") throw new StsLimitError(`session tag ${JSON.stringify(key.slice(0, 40))} must have a string value`);
    if (value.length > MAX_TAG_VALUE_LENGTH) throw new StsLimitError(`session tag values are at most ${MAX_TAG_VALUE_LENGTH} characters, got ${value.length}`);
    if (!tagPattern.test(value)) throw new StsLimitError(`session tag ${JSON.stringify(key.slice(0, 40))} has a value with a character STS does not allow`);
  }
}

/** Check an inline session policy's text against STS's limits; throws {@link StsLimitError}. */
export function checkSessionPolicy(policy: string): void {
  if (policy.length === 0) throw new StsLimitError("the session policy is empty");
  if (policy.length > MAX_SESSION_POLICY_LENGTH) throw new StsLimitError(`the session policy is at most ${MAX_SESSION_POLICY_LENGTH} characters, got ${policy.length}`);
  if (!POLICY_CHARS.test(policy)) throw new StsLimitError("the session policy has a character STS does not allow (outside tab, newline and U+0020 to U+00FF)");
}

/** Check a role session name; throws {@link StsLimitError}. */
export function checkRoleSessionName(name: string): void {
  if (!SESSION_NAME.test(name)) throw new StsLimitError("RoleSessionName must be 2 to 64 characters of [\\w+=,.@-]");
}

/**
 * A `RoleSessionName` for a principal: `<sub>@<tenant>`. It shows in CloudTrail as
 * `assumed-role/<role>/<session name>` and in `aws:userid`, which IAM policies may scope on, so two
 * tenants must never share one: where the plain form would lose information (a character outside
 * `[\w+=,.@-]` replaced, or the name cut at 64 characters), the tenant part ends in a hash of the
 * exact sub and tenant.
 */
export function roleSessionNameFor(sub: string, tenantId: string | undefined): string {
  const clean = (s: string) => s.replace(/[^\w+=,.@-]/g, "_");
  const plain = tenantId !== undefined && tenantId !== "" ? `${clean(sub)}@${clean(tenantId)}` : clean(sub);
  const exact = tenantId !== undefined && tenantId !== "" ? `${sub}@${tenantId}` : sub;
  if (plain === exact && plain.length <= 64) return plain.length < 2 ? plain.padEnd(2, "_") : plain;
  const digest = createHash("sha256")
    .update(`${sub}\u0000${tenantId ?? ""}`)
    .digest("hex")
    .slice(0, 16);
  // 64 = up to 36 of the sub + "@" + up to 10 of the tenant + "." + 16 hex characters.
  const head = clean(sub).slice(0, 36);
  const tenantHead = tenantId !== undefined && tenantId !== "" ? clean(tenantId).slice(0, 10) : "";
  return `${head}@${tenantHead}.${digest}`.slice(0, 64);
}
