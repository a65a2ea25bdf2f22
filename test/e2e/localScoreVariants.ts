/**
 * Versions of ml/score.py for the rollout test. The faulty one has a bug of a kind real services ship: a ring
 * buffer of recent latencies indexed by a request counter that never wraps, so a worker fails every scoring
 * request from its 33rd on (IndexError -> azmlinfsrv answers 500). The ML unit tests (init() per test, a few
 * requests each, at most 30 in ml/tests/test_collection.py) and INT's validation (1 smoke request when the server
 * starts + 5 in validate-int) stay within 32 requests per worker and pass; the PROD canary does not: at the 10% step it gets
 * one request in ten of the rollout test's probe traffic (200 req/s for 2 s through the router), about 40. The fixed one wraps the index.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** scoring requests one worker answers before the faulty version starts failing */
export const FAULTY_AFTER = 32;

function withLatencyBuffer(original: string, index: string): string {
  const anchor = "model = None\n";
  const init = "def init() -> None:\n    global model\n";
  const ret = '    return {"predictions": predictions}\n';
  for (const a of [anchor, init, ret])
    if (!original.includes(a)) throw new Error(`ml/score.py changed shape; update test/e2e/localScoreVariants.ts (missing ${JSON.stringify(a)})`);
  return original
    .replace(
      anchor,
      `${anchor}\n# Latencies (ms) of the last requests, for a periodic log line.\n_recent_ms = [0.0] * ${FAULTY_AFTER}\n_served = 0\n\n\ndef _remember_latency(ms: float) -> None:\n    global _served\n    _recent_ms[${index}] = ms\n    _served += 1\n`,
    )
    .replace(init, `${init}    global _served\n    _served = 0\n`)
    .replace(ret, `    _remember_latency((time.perf_counter() - started) * 1e3)\n${ret}`);
}

/** Writes the faulty score.py (fails from the 9th scoring request of a worker on). */
export async function writeFaultyScore(repoRoot: string, original: string): Promise<void> {
  await writeFile(path.join(repoRoot, "ml", "score.py"), withLatencyBuffer(original, "_served"));
}

/** Writes the fixed score.py (the same buffer, wrapping). */
export async function writeFixedScore(repoRoot: string, original: string): Promise<void> {
  await writeFile(path.join(repoRoot, "ml", "score.py"), withLatencyBuffer(original, "_served % len(_recent_ms)"));
}

export const readScore = (repoRoot: string): Promise<string> => readFile(path.join(repoRoot, "ml", "score.py"), "utf8");
