/**
 * Reads pytest's closing summary line ("1 failed, 12 passed, 2 warnings in 3.21s", with or without the
 * "=====" framing of non-quiet mode) into counts. Errors (collection or fixture errors) count as failures.
 */
export interface PytestCounts {
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  /** pytest's own duration in seconds, when the line has one */
  seconds?: number;
  line: string;
}

const COUNT = /(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)\b/g;
const SUMMARY =
  /^(?:=+ )?(?:(?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)(?:, )?)+|no tests ran)(?: in ([\d.]+)s)?(?: \([^)]*\))?(?: =+)?$/;

/** The counts of the last summary line in `output`, or undefined if pytest printed none. */
export function parsePytestSummary(output: string): PytestCounts | undefined {
  const lines = output.split(/\r?\n/).map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const m = SUMMARY.exec(line);
    if (!m) continue;
    const counts: PytestCounts = { passed: 0, failed: 0, errors: 0, skipped: 0, line: line.replace(/^=+ | =+$/g, "") };
    for (const c of line.matchAll(COUNT)) {
      const n = Number(c[1]);
      const kind = c[2]!;
      if (kind === "passed" || kind === "xpassed") counts.passed += n;
      else if (kind === "failed") counts.failed += n;
      else if (kind.startsWith("error")) counts.errors += n;
      else if (kind === "skipped" || kind === "xfailed") counts.skipped += n;
    }
    if (m[1]) counts.seconds = Number(m[1]);
    return counts;
  }
  return undefined;
}

/** The first "ERROR <where> - <why>" / "E   <why>" line, to name what kept the suite from running. */
export function firstPytestError(output: string): string | undefined {
  const lines = output.split(/\r?\n/);
  const short = lines.find((l) => /^ERROR\s+\S/.test(l));
  if (short) return short.trim();
  const e = lines.find((l) => /^E\s{2,}\S/.test(l));
  return e?.replace(/^E\s+/, "").trim();
}
