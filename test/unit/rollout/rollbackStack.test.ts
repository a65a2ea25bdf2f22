import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { DeploymentError, NotFoundError } from "../../../driver/core/errors.js";
import type { Progress, Target } from "../../../driver/core/ports.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { rollbackStack } from "../../../driver/rollout/rollbackStack.js";
import { FileReleaseStore } from "../../../driver/store/fileReleaseStore.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";
import { tempDir } from "../../support/tempDirs.js";

const config = parseReleaseConfig({ model: { name: "m" }, gate: { mode: "disabled", metrics: { rmse: { greater_is_better: false } } } });
let seq = 0;
/** A clock one second further on each call: every save gets its own updatedAt. */
let tick = 0;
const clock = (): Date => new Date(Date.UTC(2026, 10, 27, 10, 0, tick++));
const machine = (t: FakeTarget) =>
  new ReleaseStateMachine({
    target: t,
    config,
    progress: silentProgress,
    now: clock,
    newId: () => `rel-20261127-1000${String(seq++).padStart(2, "0")}-beef`,
  });

async function releaseToProd(t: FakeTarget, opts: { allowDowngrade?: boolean } = {}): Promise<string> {
  const m = machine(t);
  const r = await m.start();
  await m.approve(r.id, "alice");
  await m.promote(r.id, opts);
  return r.id;
}

/** Releases v1 then v2 (new code) to int and prod. */
async function twoReleases(t: FakeTarget): Promise<{ id1: string; id2: string }> {
  const id1 = await releaseToProd(t);
  t.metrics = { rmse: 50, mae: 40, r2: 0.5 };
  t.fp = { ...t.fp, codeDigest: "code2" };
  const id2 = await releaseToProd(t);
  return { id1, id2 };
}

class LinesProgress implements Progress {
  lines: string[] = [];
  stepStarted(): void {}
  stepFinished(): void {}
  info(message: string): void {
    this.lines.push(message);
  }
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "expected a rejection").to.be.instanceOf(Error);
  return e as Error;
}

describe("mlops rollback <stack> (over the ports)", () => {
  it("puts the previous version back on prod, validates it, crowns it champion and notes it on the release", async () => {
    const t = new FakeTarget();
    const { id2 } = await twoReleases(t);
    expect(t.serving.prod?.version).to.equal("2");
    const progress = new LinesProgress();
    const res = await rollbackStack(t, "prod", progress, () => new Date("2026-11-28T09:00:00.000Z"));
    expect(res).to.deep.include({ stack: "prod", from: "2", releaseId: id2 });
    expect(res.to.version).to.equal("1");
    expect(res.validation).to.deep.include({ healthy: true, modelVersion: "1" });
    expect(t.serving.prod?.version).to.equal("1");
    expect(t.championVersion).to.equal("1");
    expect(progress.lines).to.deep.equal(["rolling prod back from v2 to v1"]);
    const saved = await t.store.load(id2);
    expect(saved.events.at(-1)).to.deep.equal({
      at: "2026-11-28T09:00:00.000Z",
      event: "rolled-back",
      detail: "mlops rollback: prod serves v1 again instead of v2",
    });
    expect(saved.updatedAt).to.equal("2026-11-28T09:00:00.000Z");
    expect(t.store.locked, "the lock is released").to.equal(false);
  });

  it("refuses with a clear message when nothing records what served before", async () => {
    const t = new FakeTarget();
    await releaseToProd(t);
    const err = await failure(rollbackStack(t, "prod", silentProgress));
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.message).to.equal("no release records what prod served before v1; deploy the version you want with a release instead");
    expect(t.store.locked, "the lock is released after a refusal").to.equal(false);
  });

  it("refuses a stack that serves nothing, naming it", async () => {
    const t = new FakeTarget();
    const err = await failure(rollbackStack(t, "prod", silentProgress));
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.message).to.equal("nothing is deployed to prod; there is nothing to roll back");
  });

  it("a second rollback does not bounce back to v2: the release that deployed v1 recorded nothing before it", async () => {
    const t = new FakeTarget();
    await twoReleases(t);
    await rollbackStack(t, "prod", silentProgress);
    const err = await failure(rollbackStack(t, "prod", silentProgress));
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.message).to.equal("no release records what prod served before v1; deploy the version you want with a release instead");
    expect(t.serving.prod?.version).to.equal("1");
  });

  it("takes what served before from the newest release that deployed the serving version (v2 redeployed over v3 goes back to v3, not v1)", async () => {
    const t = new FakeTarget();
    const fp1 = { ...t.fp };
    await twoReleases(t);
    const fp2 = { ...t.fp };
    t.fp = { ...fp1, codeDigest: "code3" };
    await releaseToProd(t); // v3 over v2
    t.fp = fp2;
    await releaseToProd(t, { allowDowngrade: true }); // the v2 run again: v2 over v3 (a downgrade, asked for)
    expect(t.serving.prod?.version).to.equal("2");
    const res = await rollbackStack(t, "prod", silentProgress);
    expect(res.to.version).to.equal("3");
    expect(t.serving.prod?.version).to.equal("3");
  });

  it("refuses to put back a version whose registry entry is gone or holds another artifact", async () => {
    const t = new FakeTarget();
    await twoReleases(t);
    const v1 = t.versions.find((v) => v.version === "1")!;
    const digest = v1.digest;
    v1.digest = "f".repeat(64);
    const err = await failure(rollbackStack(t, "prod", silentProgress));
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.message).to.equal(`m v1 (${digest.slice(0, 12)}) is no longer in the registry; it cannot be put back`);
    expect(t.serving.prod?.version, "nothing changed on prod").to.equal("2");

    t.versions.splice(t.versions.indexOf(v1), 1);
    const gone = await failure(rollbackStack(t, "prod", silentProgress));
    expect(gone.message).to.equal(err.message);
  });

  it("a rolled-back version that fails its validation is a deployment error and is not crowned champion", async () => {
    const t = new FakeTarget();
    await twoReleases(t);
    t.broken.add("prod:1");
    const err = await failure(rollbackStack(t, "prod", silentProgress));
    expect(err).to.be.instanceOf(DeploymentError);
    expect(err.message).to.equal("prod runs v1 again but its validation failed: scoring returned 500");
    expect(t.championVersion).to.equal("2");
    expect(t.store.locked, "the lock is released after a failure").to.equal(false);
  });

  it("rolling back int does not touch the champion (the champion is what serves prod)", async () => {
    const t = new FakeTarget();
    await twoReleases(t);
    const res = await rollbackStack(t, "int", silentProgress);
    expect(res.to.version).to.equal("1");
    expect(t.serving.int?.version).to.equal("1");
    expect(t.serving.prod?.version).to.equal("2");
    expect(t.championVersion).to.equal("2");
  });

  it("holds the release lock as 'rollback <stack>' while it works, so another command is told what runs", async () => {
    const t = new FakeTarget();
    await twoReleases(t);
    const files = new FileReleaseStore(tempDir("mlops-rollback-"));
    for (const r of await t.store.list()) await files.save(r);
    let refusal: unknown;
    const target: Target = {
      ...t,
      store: files,
      registry: {
        ...t.registry,
        getVersion: async (name, version) => {
          refusal = await files.lock("release").then(
            () => undefined,
            (e: unknown) => e,
          );
          return t.registry.getVersion(name, version);
        },
      },
      close: async () => {},
    };
    await rollbackStack(target, "prod", silentProgress);
    expect((refusal as Error | undefined)?.message).to.match(/^another mlops command is running \(rollback prod, pid \d+/);
    const after = await files.lock("release");
    await after.release();
  });
});
