/**
 * An exclusive lock file (O_EXCL create) holding the owner's pid. A lock whose owner process is gone is stale
 * and taken over, so a crash never blocks the next run. Good enough for a CLI and tests racing on one machine.
 */
import { open, readFile, rm, mkdir } from "node:fs/promises";
import path from "node:path";
import { EnvironmentError } from "../core/errors.js";
import { isPidAlive } from "./processes.js";

export interface FileLock {
  release(): Promise<void>;
}

export async function acquireFileLock(lockPath: string, opts: { what: string; timeoutMs: number; onWait?: (holderPid: number) => void }): Promise<FileLock> {
  await mkdir(path.dirname(lockPath), { recursive: true });
  const deadline = Date.now() + opts.timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fh = await open(lockPath, "wx");
      await fh.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
      await fh.close();
      return { release: () => rm(lockPath, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = 0;
    try {
      holder = Number((JSON.parse(await readFile(lockPath, "utf8")) as { pid?: number }).pid) || 0;
    } catch {
      holder = 0; // being written right now, or garbage: treat as held briefly
    }
    if (holder > 0 && !isPidAlive(holder)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new EnvironmentError(
        `${opts.what} is locked by process ${holder || "?"} (${lockPath}); wait for it to finish or remove the file if that process is gone`,
      );
    }
    if (!told && holder > 0) {
      opts.onWait?.(holder);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
