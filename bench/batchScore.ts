/**
 * Figures for the README: local batch scoring (ml/batch_score.py: score.py's init()/run() in chunks of 1000 rows)
 * in rows per second, and its peak memory as the input grows (it streams: the peak should stay flat).
 * Inputs are drawn from ml/data.txt's distribution (per-column mean and standard deviation, `sex` 1/2 at its
 * frequency; seeded, so every run scores the same rows). The model is trained once from ml/data.txt without MLflow.
 *   MLOPS_VENV_ROOT=... npx tsx bench/batchScore.ts [sizes=10000,100000,300000]
 * Prints a Markdown table to stdout; writes bench/results/batch-score.json (git-ignored).
 */
import { trainingRows } from "../test/support/trainingRows.js";
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ensurePythonEnv } from "../driver/host/pythonEnv.js";

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SIZES = (process.argv[2] ?? "10000,100000,300000")
  .split(",")
  .map(Number)
  .filter((n) => n > 0 && n <= 5_000_000);
const FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"];
const quiet = { stepStarted() {}, stepFinished() {}, info() {} };

/** mulberry32: a small seeded PRNG, so the generated rows are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function columnStats(): Promise<{ mean: number[]; sd: number[]; pSex2: number }> {
  const rows = trainingRows(REPO);
  const mean = FEATURES.map((_, j) => rows.reduce((a, r) => a + r[j]!, 0) / rows.length);
  const sd = FEATURES.map((_, j) => Math.sqrt(rows.reduce((a, r) => a + (r[j]! - mean[j]!) ** 2, 0) / (rows.length - 1)));
  return { mean, sd, pSex2: rows.filter((r) => r[1] === 2).length / rows.length };
}

async function writeRows(file: string, n: number, stats: Awaited<ReturnType<typeof columnStats>>): Promise<void> {
  const rnd = prng(42);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const out = createWriteStream(file);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r())));
  await write(FEATURES.join(",") + "\n");
  let buf = "";
  for (let i = 0; i < n; i++) {
    const row = FEATURES.map((f, j) => (f === "sex" ? (rnd() < stats.pSex2 ? 2 : 1) : Math.max(0, stats.mean[j]! + stats.sd[j]! * normal()).toFixed(4)));
    buf += row.join(",") + "\n";
    if (buf.length > 1 << 16) {
      await write(buf);
      buf = "";
    }
  }
  await write(buf);
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}

// Runs batch_score.main() and prints its own peak RSS (ru_maxrss, KiB on Linux) after it returns.
const MEASURE = [
  "import resource, runpy, sys",
  "script = sys.argv[1]; sys.argv = sys.argv[1:]",
  "try:\n    runpy.run_path(script, run_name='__main__')\nexcept SystemExit as ex:\n    code = ex.code\nelse:\n    code = 0",
  "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)",
  "sys.exit(code)",
].join("\n");

const env = await ensurePythonEnv({ repoRoot: REPO, venvRoot: process.env.MLOPS_VENV_ROOT?.trim() || path.join(REPO, ".mlops", "venvs"), progress: quiet });
const tmp = await mkdtemp(path.join(os.tmpdir(), "bench-batch-"));
try {
  await run(env.python, [path.join(REPO, "ml", "extract.py"), "--data", path.join(REPO, "ml", "data.txt"), "--out", path.join(tmp, "split")]);
  await run(env.python, [path.join(REPO, "ml", "train.py"), "--train", path.join(tmp, "split", "train.csv"), "--out", path.join(tmp, "train"), "--no-mlflow"]);
  const stats = await columnStats();
  const results: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const input = path.join(tmp, `rows-${n}.csv`);
    await writeRows(input, n, stats);
    const output = path.join(tmp, `scored-${n}.csv`);
    const t0 = Date.now();
    const r = await run(
      env.python,
      [
        "-c",
        MEASURE,
        path.join(REPO, "ml", "batch_score.py"),
        "--model-dir",
        path.join(tmp, "train", "model"),
        "--input",
        input,
        "--output",
        output,
        "--errors",
        `${output}.errors.csv`,
      ],
      { maxBuffer: 64 << 20 },
    );
    const wallS = (Date.now() - t0) / 1000;
    const done = JSON.parse(
      r.stdout
        .trim()
        .split("\n")
        .filter((l) => l.includes('"done"'))
        .pop()!,
    ) as { rows: number; scored: number; failed: number; seconds: number; rowsPerSecond: number };
    const peakKiB = Number(/PEAK_RSS_KIB (\d+)/.exec(r.stderr)?.[1]);
    results.push({
      rows: n,
      inputMiB: +((await stat(input)).size / 2 ** 20).toFixed(1),
      scored: done.scored,
      failed: done.failed,
      scoringSeconds: done.seconds,
      rowsPerSecond: done.rowsPerSecond,
      wallSeconds: wallS,
      peakRssMiB: +(peakKiB / 1024).toFixed(1),
    });
    await rm(input);
    await rm(output);
  }
  const lines = [
    `batch scoring on this machine (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "?"}), ml/batch_score.py, chunks of 1000 rows`,
    "",
    "| rows | input MiB | scored | failed | scoring s | rows/s | wall s (incl. Python start, model load) | peak RSS MiB |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...results.map(
      (x) =>
        `| ${x.rows} | ${x.inputMiB} | ${x.scored} | ${x.failed} | ${x.scoringSeconds} | ${x.rowsPerSecond} | ${(x.wallSeconds as number).toFixed(1)} | ${x.peakRssMiB} |`,
    ),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  await mkdir(path.join(REPO, "bench", "results"), { recursive: true });
  await writeFile(path.join(REPO, "bench", "results", "batch-score.json"), JSON.stringify({ at: new Date().toISOString(), results }, null, 2));
} finally {
  await rm(tmp, { recursive: true, force: true });
}
