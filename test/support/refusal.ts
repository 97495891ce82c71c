import { expect } from "vitest";
import { TenantAuthError } from "../../src/index.js";

/** Await a promise that must reject with a TenantAuthError, and return that error. */
export async function refusal(promise: Promise<unknown>): Promise<TenantAuthError> {
  const outcome = await promise.then(
    (value) => ({ resolved: true as const, value }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error(`expected a TenantAuthError, but it resolved: ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(TenantAuthError);
  return outcome.error as TenantAuthError;
}

/** The same for a function that must throw synchronously. */
export function refusalSync(fn: () => unknown): TenantAuthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TenantAuthError);
    return error as TenantAuthError;
  }
  throw new Error("expected a TenantAuthError, but nothing was thrown");
}
