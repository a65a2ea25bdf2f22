/**
 * Progress of a batch scoring on stderr: a bar redrawn in place on a terminal, a line every few seconds
 * otherwise (CI logs). Rows are not known up front, so the percentage is of the input's bytes read.
 */
import type { BatchProgressEvent } from "../core/ports.js";

export interface BatchProgressBarOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  quiet?: boolean;
  /** non-tty: at most one line per this many ms (default 5000) */
  lineEveryMs?: number;
  now?: () => number;
}

const count = (n: number): string => n.toLocaleString("en-US");

export function describeProgress(e: BatchProgressEvent): string {
  const pct = e.totalBytes > 0 ? Math.min(100, Math.floor((100 * e.bytes) / e.totalBytes)) : 0;
  const rate = e.seconds > 0 ? Math.round(e.rows / e.seconds) : 0;
  return `${String(pct).padStart(3)}% ${count(e.rows)} rows (${count(e.failed)} failed), ${count(rate)} rows/s, ${e.seconds.toFixed(1)}s`;
}

export function progressBar(e: BatchProgressEvent, width = 24): string {
  const frac = e.totalBytes > 0 ? Math.min(1, e.bytes / e.totalBytes) : 0;
  const full = Math.round(frac * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}] ${describeProgress(e)}`;
}

export class BatchProgressBar {
  private readonly stream: NonNullable<BatchProgressBarOptions["stream"]>;
  private lastLineAt = -Infinity;
  private drawn = false;

  constructor(private readonly opts: BatchProgressBarOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
  }

  private get tty(): boolean {
    return !!this.stream.isTTY;
  }

  update(e: BatchProgressEvent): void {
    if (this.opts.quiet) return;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K[mlops]   ${progressBar(e)}`);
      this.drawn = true;
      return;
    }
    const now = (this.opts.now ?? Date.now)();
    if (now - this.lastLineAt < (this.opts.lineEveryMs ?? 5000)) return;
    this.lastLineAt = now;
    this.stream.write(`[mlops]   score-batch: ${describeProgress(e)}\n`);
  }

  /** Ends the in-place bar (a newline) so the next line starts clean. */
  finish(): void {
    if (this.drawn) this.stream.write("\n");
    this.drawn = false;
  }
}
