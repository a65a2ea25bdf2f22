/**
 * Size-based rotation of the logs under .mlops/logs (the tracking server's, the inference servers', PROD's router's).
 * Those files are held open by detached services that append to them (O_APPEND), so a log is rotated the way
 * logrotate's `copytruncate` does it: copied to <name>.1 (older copies shift to .2 .. .<LOG_KEEP>; the oldest is
 * dropped), then emptied in place; the service's next write lands at the start of the emptied file. Lines written
 * between the copy and the truncation (microseconds) can be lost: the price of not restarting a service.
 * Best effort: a log that cannot be rotated is left as it is and never fails a command.
 */
import { copyFile, readdir, rename, rm, stat, truncate } from "node:fs/promises";
import path from "node:path";

/** A log is rotated once it is larger than this: 10 MiB. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Rotated copies kept per log (<name>.1 newest .. <name>.3 oldest): at most 4 x 10 MiB per log. */
export const LOG_KEEP = 3;

export interface RotationOptions {
  maxBytes?: number;
  keep?: number;
}

/** Rotates every `*.log` in `dir` larger than maxBytes; returns the names rotated. */
export async function rotateLogsBySize(dir: string, o: RotationOptions = {}): Promise<string[]> {
  const maxBytes = o.maxBytes ?? LOG_MAX_BYTES;
  const keep = Math.max(1, o.keep ?? LOG_KEEP);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const rotated: string[] = [];
  for (const name of names.filter((n) => n.endsWith(".log")).sort()) {
    const file = path.join(dir, name);
    try {
      const s = await stat(file);
      if (!s.isFile() || s.size <= maxBytes) continue;
      await rm(`${file}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
      await copyFile(file, `${file}.1`);
      await truncate(file, 0);
      rotated.push(name);
    } catch {
      /* vanished or unwritable: left as it is */
    }
  }
  return rotated;
}
