/**
 * What `mlops doctor` reports: one result per check, `ok`, `warn` (worth knowing, does not block) or `FAIL` (the
 * next step would fail: says what is wrong and what to do). A check is a named async function over a context; the
 * lists of checks per target are plain arrays (azure/azureChecks.ts, local/localChecks.ts), so adding one is adding
 * an element.
 */
export type CheckStatus = "ok" | "warn" | "FAIL";

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  /** what to do; empty for ok */
  fix: string;
}

export interface Check<C> {
  /** the name results carry (a check may report several results, e.g. one per stack) */
  name: string;
  run(ctx: C): Promise<CheckResult | CheckResult[]>;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, status: "ok", detail, fix: "" });
export const warn = (check: string, detail: string, fix = ""): CheckResult => ({ check, status: "warn", detail, fix });
export const fail = (check: string, detail: string, fix: string): CheckResult => ({ check, status: "FAIL", detail, fix });

/** A later check that depends on an earlier one which failed: reported, never silently dropped. */
export const notChecked = (check: string, why: string): CheckResult => warn(check, `not checked: ${why}`);
