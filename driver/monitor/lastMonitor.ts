/**
 * The last monitor run of each stack (.mlops/monitor/<stack>.json): its outcome and report, so `mlops status`
 * can link it. Written atomically; an unreadable record is treated as absent.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { STACKS, type StackName } from "../core/release.js";

export interface LastMonitor {
  stack: StackName;
  at: string;
  modelVersion: string;
  outcome: string;
  reasons: string[];
  report: { markdown: string; html: string };
  /** the release `--retrain` started */
  release?: string;
}

const fileOf = (stateDir: string, stack: StackName): string => path.join(stateDir, "monitor", `${stack}.json`);

export async function writeLastMonitor(stateDir: string, m: LastMonitor): Promise<void> {
  const file = fileOf(stateDir, m.stack);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(m, null, 2) + "\n");
  await rename(tmp, file);
}

export async function readLastMonitors(stateDir: string): Promise<LastMonitor[]> {
  const out: LastMonitor[] = [];
  for (const stack of STACKS) {
    const m = await readFile(fileOf(stateDir, stack), "utf8").then(
      (t) => JSON.parse(t) as LastMonitor,
      () => undefined,
    );
    if (m && typeof m.outcome === "string" && m.report?.markdown) out.push(m);
  }
  return out;
}

/** One line per stack for `mlops status`. */
export function renderLastMonitors(ms: readonly LastMonitor[], repoRoot: string): string {
  if (!ms.length) return "monitor:\n  (not run yet: 'npm run mlops -- monitor prod')";
  const rel = (f: string) => path.relative(repoRoot, f) || f;
  return [
    "monitor:",
    ...ms.map((m) => `  ${m.stack.padEnd(5)} ${m.at}  v${m.modelVersion}  ${m.outcome}${m.release ? ` -> ${m.release}` : ""}  ${rel(m.report.html)}`),
  ].join("\n");
}
