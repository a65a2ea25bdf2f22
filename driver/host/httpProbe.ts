/** Polling a local HTTP endpoint until it answers, while watching the process that should serve it. */
import { EnvironmentError } from "../core/errors.js";
import type { Progress } from "../core/ports.js";
import { isPidAlive, logTail } from "./processes.js";

/** GET `url`; true on 2xx. Never throws. */
export async function httpOk(url: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export interface WaitForHttpOptions {
  url: string;
  /** how to ask (default: GET `url` answers 2xx), e.g. an authenticated admin call */
  probe?: () => Promise<boolean>;
  /** what we wait for, for progress and errors: "the MLflow tracking server on 127.0.0.1:5500" */
  what: string;
  timeoutMs: number;
  pid: number;
  logFile: string;
  progress: Progress;
  hint?: string;
  /** stops waiting (throws) when aborted; the process is left as it is */
  signal?: AbortSignal;
}

export async function waitForHttp(o: WaitForHttpOptions): Promise<number> {
  const started = Date.now();
  o.progress.info(`waiting for ${o.what}${o.hint ? ` (${o.hint})` : ""}; log: ${o.logFile}`);
  let nextNote = started + 15_000;
  for (;;) {
    if (o.signal?.aborted) throw new EnvironmentError(`stopped waiting for ${o.what}; it goes on starting (see ${o.logFile})`);
    if (await (o.probe ? o.probe() : httpOk(o.url))) return Date.now() - started;
    if (!isPidAlive(o.pid)) {
      const tail = (await logTail(o.logFile, 1)).slice(0, 300);
      throw new EnvironmentError(`${o.what} exited while starting${tail ? `: ${tail}` : ""}; see ${o.logFile}`);
    }
    if (Date.now() - started > o.timeoutMs) {
      throw new EnvironmentError(`${o.what} did not answer ${o.url} within ${Math.round(o.timeoutMs / 1000)}s; see ${o.logFile}`);
    }
    if (Date.now() > nextNote) {
      o.progress.info(`still waiting for ${o.what} (${Math.round((Date.now() - started) / 1000)}s)`);
      nextNote = Date.now() + 15_000;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
