/**
 * Progress on stderr: one line when a step starts and ends (with its elapsed time), free-form lines within a
 * step, and a heartbeat while a step runs long so a CI log never looks hung. Results go to stdout elsewhere.
 */
import type { Progress } from "../core/ports.js";

export interface ProgressOptions {
  stream?: NodeJS.WritableStream;
  heartbeatMs?: number;
  quiet?: boolean;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export class StderrProgress implements Progress {
  private readonly stream: NodeJS.WritableStream;
  private readonly started = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private lastInfo = "";

  constructor(private readonly opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
  }

  private write(line: string): void {
    if (!this.opts.quiet) this.stream.write(`${line}\n`);
  }

  stepStarted(step: string, what: string): void {
    this.started.set(step, Date.now());
    this.lastInfo = what;
    this.write(`[mlops] ${step}: ${what}`);
    this.startHeartbeat(step);
  }

  stepFinished(step: string, ok: boolean, detail: string): void {
    const t0 = this.started.get(step) ?? Date.now();
    this.stopHeartbeat();
    this.write(`[mlops] ${step}: ${ok ? "done" : "FAILED"} in ${secs(Date.now() - t0)}: ${detail}`);
  }

  info(message: string): void {
    this.lastInfo = message;
    this.write(`[mlops]   ${message}`);
  }

  private startHeartbeat(step: string): void {
    this.stopHeartbeat();
    const every = this.opts.heartbeatMs ?? 15000;
    this.heartbeat = setInterval(() => {
      const t0 = this.started.get(step) ?? Date.now();
      this.write(`[mlops]   ${step} still running (${secs(Date.now() - t0)}): ${this.lastInfo}`);
    }, every);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
