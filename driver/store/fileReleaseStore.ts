/**
 * Release records as JSON files under <stateDir>/releases/, written atomically (temp file + rename, fsync'd),
 * and a lock file holding the pid of the one process allowed to change releases. A lock whose process is gone
 * (a crash) is taken over; a live one is reported with its holder and purpose.
 *
 * A record that cannot be read back (truncated, emptied, hand-broken: see releaseRecord.ts) is quarantined: moved
 * aside to <id>.json.corrupt-<UTC timestamp> with its bytes intact (never deleted), named once in a warning, and
 * left out of the listing, so one bad file never stops the commands about every other release.
 */
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { NotFoundError, ReleaseLockedError, UsageError } from "../core/errors.js";
import type { ReleaseLock, ReleaseStore } from "../core/ports.js";
import type { Release } from "../core/release.js";
import { writeFileAtomic } from "./atomicFile.js";
import { parseReleaseRecord } from "./releaseRecord.js";

/** The shape of a release id (rel-<date>-<time>-<4 hex>), the same for both targets' stores. */
export const RELEASE_ID = /^rel-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$/;
const ID = RELEASE_ID;

interface LockInfo {
  pid: number;
  host: string;
  purpose: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface FileReleaseStoreOptions {
  /** Where a quarantined record is reported (one line); default: "mlops: warning: ..." on stderr. */
  warn?: (message: string) => void;
}

/** Thrown by load for a record that was quarantined; list skips it. */
class CorruptReleaseError extends NotFoundError {}

export class FileReleaseStore implements ReleaseStore {
  private readonly dir: string;
  private readonly lockFile: string;
  private readonly warn: (message: string) => void;

  constructor(stateDir: string, opts: FileReleaseStoreOptions = {}) {
    this.dir = path.join(stateDir, "releases");
    this.lockFile = path.join(stateDir, "release.lock");
    this.warn = opts.warn ?? ((m) => void process.stderr.write(`mlops: warning: ${m}\n`));
  }

  private file(id: string): string {
    if (!ID.test(id)) throw new UsageError(`'${id}' is not a release id (they look like rel-20261127-093000-ab12); list them with 'mlops status'`);
    return path.join(this.dir, `${id}.json`);
  }

  async save(release: Release): Promise<void> {
    await writeFileAtomic(this.file(release.id), JSON.stringify(release, null, 2) + "\n");
  }

  async load(id: string): Promise<Release> {
    const file = this.file(id);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      throw new NotFoundError(`no release '${id}'; list releases with 'mlops status'`);
    }
    const parsed = parseReleaseRecord(text, id);
    if ("release" in parsed) return parsed.release;
    const aside = await this.quarantine(id, file, parsed.problem);
    throw new CorruptReleaseError(
      `release ${id}'s record is unreadable (${parsed.problem}) and was moved aside to ${aside}; it cannot be resumed or promoted: start a new release`,
    );
  }

  /** Moves a bad record aside (never deletes it) and warns once; returns where it went. */
  private async quarantine(id: string, file: string, problem: string): Promise<string> {
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[-:.]/g, "")}`;
    try {
      await rename(file, aside);
    } catch (e) {
      // another mlops process moved it first: it warned
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return path.join(this.dir, `${id}.json.corrupt-*`);
      throw e;
    }
    this.warn(`release record ${file} is unreadable (${problem}); moved aside to ${aside} (kept, not deleted); every other release is unaffected`);
    return aside;
  }

  async list(): Promise<Release[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const ids = names
      .filter((n) => n.endsWith(".json"))
      .map((n) => n.slice(0, -5))
      .filter((id) => ID.test(id));
    const loaded = await Promise.all(
      ids.map((id) =>
        this.load(id).catch((e: unknown) => {
          // quarantined (warned), or removed since the directory was read
          if (e instanceof NotFoundError) return undefined;
          throw e;
        }),
      ),
    );
    const releases = loaded.filter((r): r is Release => r !== undefined);
    return releases.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async lock(purpose: string): Promise<ReleaseLock> {
    await mkdir(path.dirname(this.lockFile), { recursive: true });
    const mine: LockInfo = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(this.lockFile, "wx");
        await fh.writeFile(JSON.stringify(mine));
        await fh.close();
        return { release: () => rm(this.lockFile, { force: true }) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(await readFile(this.lockFile, "utf8")) as LockInfo;
      } catch {
        holder = undefined; // half-written or vanished: treat as stale
      }
      if (holder && holder.host === mine.host && alive(holder.pid)) {
        throw new ReleaseLockedError(`another mlops command is running (${holder.purpose}, pid ${holder.pid}, since ${holder.since}); wait for it to finish`);
      }
      if (holder && holder.host !== mine.host) {
        throw new ReleaseLockedError(
          `the release state is locked by ${holder.host} (pid ${holder.pid}, ${holder.purpose}); wait, or remove ${this.lockFile} if that machine is gone`,
        );
      }
      await rm(this.lockFile, { force: true }); // stale: its process died
    }
    throw new ReleaseLockedError(`could not take the release lock ${this.lockFile}; another mlops command is starting, try again`);
  }
}
