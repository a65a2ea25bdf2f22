/**
 * Runs a list of checks in order (later checks may read what earlier ones found in the context), turns an
 * unexpected error into a FAIL of that check (first line only: errors here never carry tokens or keys), and renders
 * the results as text lines or JSON. The exit code is EXIT.environment (8, "the machine or cloud is not ready")
 * when any check FAILed.
 */
import { EXIT } from "../core/errors.js";
import type { Check, CheckResult } from "./checkResult.js";
import { fail } from "./checkResult.js";

export async function runChecks<C>(checks: readonly Check<C>[], ctx: C, onResult?: (r: CheckResult) => void): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    let results: CheckResult[];
    try {
      const r = await c.run(ctx);
      results = Array.isArray(r) ? r : [r];
    } catch (e) {
      const msg = ((e as Error)?.message ?? String(e)).split("\n")[0]!.slice(0, 300);
      results = [fail(c.name, `the check itself failed: ${msg}`, "run again with MLOPS_DEBUG=1 and report it if it persists")];
    }
    for (const r of results) {
      out.push(r);
      onResult?.(r);
    }
  }
  return out;
}

const LABEL = { ok: "ok  ", warn: "warn", FAIL: "FAIL" } as const;

export function renderLine(r: CheckResult): string {
  return `${LABEL[r.status]} ${r.check}: ${r.detail}${r.fix ? `; ${r.fix}` : ""}`;
}

export function renderText(results: readonly CheckResult[]): string {
  const fails = results.filter((r) => r.status === "FAIL").length;
  const warns = results.filter((r) => r.status === "warn").length;
  return [...results.map(renderLine), "", `${results.length} checks: ${fails} FAIL, ${warns} warn`].join("\n");
}

export function doctorExitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === "FAIL") ? EXIT.environment : 0;
}
