/**
 * ReleaseStore in Blob storage, so separate CI runs (the release stage, the PROD stage after the approval
 * check) share the release records: one JSON blob per release under <prefix>releases/<id>.json in the INT
 * workspace's default datastore container. Writes are optimistic: a record read or written by this process is
 * replaced only if its ETag is unchanged (If-Match), a new one only if absent (If-None-Match: *); a conflict is
 * reported, never overwritten. The lock is a 60 s lease on <prefix>release.lock, renewed while held, so a
 * crashed run frees it within a minute; the holder is written in the lock blob's metadata.
 *
 * A record that cannot be read back (driver/store/releaseRecord.ts) is quarantined as on the local store: copied to
 * <id>.json.corrupt-<UTC stamp>, then the original deleted only if unchanged since it was read (If-Match), named
 * once in a warning and left out of the listing, so one bad blob never stops every command.
 */
import { hostname } from "node:os";
import type { ContainerClient } from "@azure/storage-blob";
import { NotFoundError, ReleaseLockedError, UsageError } from "../../core/errors.js";
import type { ReleaseLock, ReleaseStore } from "../../core/ports.js";
import type { Release } from "../../core/release.js";
import { parseReleaseRecord } from "../../store/releaseRecord.js";
import { statusOf } from "./armErrors.js";

const ID = /^rel-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$/;

export interface BlobReleaseStoreOptions {
  container: () => Promise<ContainerClient>;
  prefix?: string;
  leaseSeconds?: number;
  renewEveryMs?: number;
  /** Where a quarantined record is reported (one line); default: "mlops: warning: ..." on stderr. */
  warn?: (message: string) => void;
}

export class BlobReleaseStore implements ReleaseStore {
  private readonly etags = new Map<string, string>();
  private readonly prefix: string;

  constructor(private readonly o: BlobReleaseStoreOptions) {
    this.prefix = o.prefix ?? "mlops/";
  }

  private blobName(id: string): string {
    if (!ID.test(id))
      throw new UsageError(`'${id}' is not a release id (they look like rel-20261127-093000-ab12); list them with 'mlops status --target azure'`);
    return `${this.prefix}releases/${id}.json`;
  }

  async save(release: Release): Promise<void> {
    const c = await this.o.container();
    const text = JSON.stringify(release, null, 2) + "\n";
    const etag = this.etags.get(release.id);
    try {
      const r = await c.getBlockBlobClient(this.blobName(release.id)).upload(text, Buffer.byteLength(text), {
        conditions: etag ? { ifMatch: etag } : { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: "application/json" },
      });
      if (r.etag) this.etags.set(release.id, r.etag);
    } catch (e) {
      const s = statusOf(e);
      if (s === 412 || s === 409) {
        throw new ReleaseLockedError(
          `release ${release.id} was changed by another mlops run since this one read it; nothing was overwritten, run the command again`,
        );
      }
      throw e;
    }
  }

  async load(id: string): Promise<Release> {
    const c = await this.o.container();
    try {
      const blob = c.getBlobClient(this.blobName(id));
      const res = await blob.download();
      const text = await streamText(res.readableStreamBody);
      const parsed = parseReleaseRecord(text, id);
      if ("release" in parsed) {
        if (res.etag) this.etags.set(id, res.etag);
        return parsed.release;
      }
      const aside = await this.quarantine(c, id, text, res.etag, parsed.problem);
      throw new NotFoundError(
        `release ${id}'s record is unreadable (${parsed.problem}) and was moved aside to ${aside}; it cannot be resumed or promoted: start a new release`,
      );
    } catch (e) {
      if (statusOf(e) === 404) throw new NotFoundError(`no release '${id}' in the INT workspace's storage; list releases with 'mlops status --target azure'`);
      throw e;
    }
  }

  /** Copies a bad record aside, then deletes it if unchanged (If-Match); warns once. Returns the copy's name. */
  private async quarantine(c: ContainerClient, id: string, text: string, etag: string | undefined, problem: string): Promise<string> {
    const name = this.blobName(id);
    const aside = `${name}.corrupt-${new Date().toISOString().replace(/[-:.]/g, "")}`;
    await c.getBlockBlobClient(aside).upload(text, Buffer.byteLength(text), { conditions: { ifNoneMatch: "*" } });
    try {
      await c.getBlobClient(name).delete({ conditions: etag ? { ifMatch: etag } : {} });
    } catch (e) {
      const s = statusOf(e);
      if (s !== 404 && s !== 412) throw e; // gone, or rewritten since it was read: leave the new one alone
    }
    (this.o.warn ?? ((m: string) => void process.stderr.write(`mlops: warning: ${m}\n`)))(
      `release record ${name} is unreadable (${problem}); moved aside to ${aside} (kept, not deleted); every other release is unaffected`,
    );
    return aside;
  }

  async list(): Promise<Release[]> {
    const c = await this.o.container();
    const ids: string[] = [];
    for await (const b of c.listBlobsFlat({ prefix: `${this.prefix}releases/` })) {
      const id = b.name.slice(`${this.prefix}releases/`.length).replace(/\.json$/, "");
      if (ID.test(id)) ids.push(id);
    }
    const loaded = await Promise.all(
      ids.map((id) =>
        this.load(id).catch((e: unknown) => {
          if (e instanceof NotFoundError) return undefined; // quarantined (warned), or deleted since listed
          throw e;
        }),
      ),
    );
    return loaded.filter((r): r is Release => r !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async lock(purpose: string): Promise<ReleaseLock> {
    const c = await this.o.container();
    const blob = c.getBlockBlobClient(`${this.prefix}release.lock`);
    try {
      await blob.upload("", 0, { conditions: { ifNoneMatch: "*" } });
    } catch (e) {
      const s = statusOf(e);
      if (s !== 409 && s !== 412) throw e; // exists already (possibly leased): fine
    }
    const lease = blob.getBlobLeaseClient();
    try {
      await lease.acquireLease(this.o.leaseSeconds ?? 60);
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
      let who = "another mlops run";
      try {
        const m = (await blob.getProperties()).metadata ?? {};
        if (m.host) who = `${m.host} (pid ${m.pid ?? "?"}, ${m.purpose ?? "?"}, since ${m.since ?? "?"}${m.build ? `, build ${m.build}` : ""})`;
      } catch {
        /* keep the generic holder */
      }
      throw new ReleaseLockedError(`the azure release state is locked by ${who}; wait for it to finish (a crashed run frees the lock within a minute)`);
    }
    // the CI run holding the lock: an Azure DevOps build id, or a GitHub Actions run
    const build = process.env.BUILD_BUILDID?.trim() || (process.env.GITHUB_RUN_ID?.trim() ? `github-run-${process.env.GITHUB_RUN_ID.trim()}` : undefined);
    await blob.setMetadata(
      {
        host: hostname(),
        pid: String(process.pid),
        purpose: purpose.replace(/[^\x20-\x7e]/g, "?"),
        since: new Date().toISOString(),
        ...(build ? { build } : {}),
      },
      { conditions: { leaseId: lease.leaseId } },
    );
    const renew = setInterval(() => {
      lease.renewLease().catch(() => undefined);
    }, this.o.renewEveryMs ?? 20_000);
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        try {
          await lease.releaseLease();
        } catch {
          /* expired already: nothing to release */
        }
      },
    };
  }
}

async function streamText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString("utf8");
}
