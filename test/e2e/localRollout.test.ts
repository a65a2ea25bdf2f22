/**
 * End to end: PROD's staged blue/green rollout on the local target, with real processes (MLflow, azmlinfsrv,
 * the weighted router) in a temp copy of the repo on ports 5670-5674.
 *
 *   v1  first deploy: straight to 100% on blue after its health and smoke checks
 *   v2  a score.py bug that only shows after 8 requests per worker: passes the ML tests and INT, fails the
 *       PROD canary at 10% -> automatic rollback, PROD keeps serving v1, v1 stays champion, v2 `failed`
 *   v3  the fix: 10% -> 50% -> 100% on green while "user" traffic sees no error; v1 stays warm on blue at 0%
 *   `mlops rollback prod` (the CLI, a subprocess): instant flip back to v1, the version that served 100%
 *       before v3 took over (v2 never did), champion v1 again, event on v3's release
 * Also `mlops profile int` through the CLI: nothing written without --apply, the exact change with it.
 * Short settings (mlops.yaml of the temp repo): gate dry_run (v2 and v3 retrain on the same data, so they do
 * not beat v1's metrics), no profile-int step, rollout steps [10, 50, 100] observed 2 s each at 50 probe req/s.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import type { Release } from "../../driver/core/release.js";
import { postScore, type SmokeRequest } from "../../driver/host/smokeRequest.js";
import { REPO_ROOT, SHARED_VENV_ROOT } from "./localRepoFixture.js";
import { writeFaultyScore, writeFixedScore } from "./localScoreVariants.js";
import { LocalProd } from "./localProdFixture.js";
import { userTraffic as userTrafficOf } from "./userTraffic.js";

const PORTS = { mlflow: 5670, int: 5671, prod: 5672, prodBlue: 5673, prodGreen: 5674 };
const ROUTER = `http://127.0.0.1:${PORTS.prod}`;
const OVERRIDES = {
  gate: { mode: "dry_run", metrics: { rmse: { greater_is_better: false, threshold: 62 } } },
  profile: { enabled: false, concurrency: [1, 2], secondsPerLevel: 1, warmupSeconds: 0.5, targetRps: 20 },
  rollout: { steps: [10, 50, 100], observeSeconds: 2, probeRps: 200, minRequests: 5, maxErrorRate: 0.01 },
};
const run = promisify(execFile);

/** `mlops` as a user runs it: a subprocess of bin/mlops.js on this Node. */
async function mlops(repo: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  try {
    const r = await run(process.execPath, [path.join(REPO_ROOT, "bin", "mlops.js"), "--repo", repo, ...args], {
      env: { ...process.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT },
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === "number" ? x.code : 1, stdout: x.stdout ?? "", stderr: x.stderr ?? "", ms: Date.now() - t0 };
  }
}

const userTraffic = (smoke: SmokeRequest, rps = 10) => userTrafficOf(`${ROUTER}/score`, smoke, rps);

describe("local target: staged blue/green PROD rollout with automatic and manual rollback", function () {
  this.timeout(15 * 60_000);
  const prod = new LocalProd(PORTS, OVERRIDES);
  const versions: Record<string, string> = {};
  let v3: Release;
  const timings: Record<string, number> = {};

  const prodAnswers = async (n: number): Promise<Record<string, number>> => {
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await postScore(`${ROUTER}/score`, prod.smoke.payload);
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      seen[r.upstream ?? "none"] = (seen[r.upstream ?? "none"] ?? 0) + 1;
    }
    return seen;
  };

  before(() => prod.start());

  after(async () => {
    const stopped = await prod.stop();
    if (process.env.MLOPS_E2E_VERBOSE) process.stderr.write(`    down: ${stopped.join("; ")}\n    timings: ${JSON.stringify(timings)}\n`);
  });

  it("v1, the first deploy ever, goes to 100% on blue after its health check (the record says so)", async () => {
    const r = await prod.releaseAndApprove();
    versions.v1 = r.model!.version;
    const released = await prod.machine.promote(r.id);
    expect(released.state).to.equal("released");
    const d = released.deployments.prod!;
    expect(d.scoringUri).to.equal(`${ROUTER}/score`);
    expect(d.previous).to.equal(undefined);
    expect(d.rollout!.outcome).to.equal("completed");
    expect(d.rollout!.steps.map((s) => s.percent)).to.deep.equal([100]);
    expect(d.rollout!.detail).to.match(/^first deploy: nothing served prod before/);
    const rec = await prod.prodRecord();
    expect(rec).to.deep.include({ slot: "blue", modelVersion: versions.v1, port: PORTS.prod });
    expect(await prodAnswers(5)).to.deep.equal({ blue: 5 });
    expect((await prod.target.registry.champion(prod.repo.config.model.name))!.version).to.equal(versions.v1);
    const again = await prod.target.environments.deploy("prod", released.model!, prod.progress);
    expect(again.detail).to.match(/^no change: prod already serves/);
  });

  it("mlops profile int (CLI) writes nothing to Pulumi.prod.yaml without --apply, and exactly the printed change with it", async () => {
    const file = path.join(prod.repo.root, "Pulumi.prod.yaml");
    const before = await readFile(file, "utf8");
    const dry = await mlops(prod.repo.root, "--json", "profile", "int");
    expect(dry.code, dry.stderr).to.equal(0);
    expect(await readFile(file, "utf8")).to.equal(before);
    const shown = JSON.parse(dry.stdout) as { applied: boolean; change: { diff: string } | null };
    expect(shown.applied).to.equal(false);

    const wet = await mlops(prod.repo.root, "--json", "profile", "int", "--apply");
    expect(wet.code, wet.stderr).to.equal(0);
    const out = JSON.parse(wet.stdout) as {
      applied: boolean;
      change: { file: string; changes: Array<{ key: string; from: string | number; to: string | number }>; diff: string };
    };
    const after = await readFile(file, "utf8");
    expect(out.change.file).to.match(/Pulumi\.prod\.yaml$/);
    // the repo's Pulumi.prod.yaml asks for 1Gi per instance; one azmlinfsrv worker needs a fraction of that
    expect(out.change.changes.length, out.change.diff).to.be.greaterThan(0);
    expect(out.applied).to.equal(true);
    if (process.env.MLOPS_E2E_VERBOSE) process.stderr.write(`    profile --apply wrote:\n${out.change.diff.replace(/^/gm, "      ")}\n`);
    // exactly the printed diff: the lines it removes are gone, the lines it adds are there, nothing else moved
    const removed = out.change.diff
      .split("\n")
      .filter((l) => /^-[^-]/.test(l))
      .map((l) => l.slice(1));
    const added = out.change.diff
      .split("\n")
      .filter((l) => /^\+[^+]/.test(l))
      .map((l) => l.slice(1));
    const b = before.split("\n");
    const a = after.split("\n");
    expect(a.length).to.equal(b.length);
    const differing = b.map((line, i) => [line, a[i]!] as const).filter(([x, y]) => x !== y);
    expect(differing.map(([x]) => x)).to.deep.equal(removed);
    expect(differing.map(([, y]) => y)).to.deep.equal(added);
    for (const c of out.change.changes) expect(after).to.include(String(c.to));
  });

  it("v2 (a score.py bug that passes the ML tests and INT) fails the PROD canary at 10% and is rolled back automatically; PROD keeps serving v1", async () => {
    await writeFaultyScore(prod.repo.root, prod.original);
    const r = await prod.releaseAndApprove();
    versions.v2 = r.model!.version;
    expect(versions.v2).to.not.equal(versions.v1);
    expect(r.validations.int!.healthy).to.equal(true);
    const t0 = Date.now();
    const err = await prod.machine.promote(r.id).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    timings.failedRolloutMs = Date.now() - t0;
    expect(err?.code, err?.message).to.equal("deployment");
    expect(err!.message).to.match(
      new RegExp(
        `^v${versions.v2} failed its prod canary and was rolled back \\(step 10% failed: error rate .*; all traffic back on blue \\(v${versions.v1}\\)\\); prod keeps serving v${versions.v1}`,
      ),
    );
    expect(err!.message).to.not.include("\n");

    const failed = await prod.target.store.load(r.id);
    expect(failed.state).to.equal("failed");
    expect(failed.steps["deploy-prod"].error!.message).to.equal(err!.message);
    expect(failed.deployments.prod).to.equal(undefined);

    const rec = await prod.prodRecord();
    expect(rec).to.deep.include({ slot: "blue", modelVersion: versions.v1 });
    expect(rec.lastFailedRollout!.outcome).to.equal("rolled-back");
    expect(rec.lastFailedRollout!.steps.map((s) => [s.percent, s.passed])).to.deep.equal([
      [0, true],
      [10, false],
    ]);
    expect(rec.lastFailedRollout!.steps[1]!.errors).to.be.greaterThan(0);
    expect(Object.keys(rec.slots)).to.deep.equal(["blue"]);
    expect(await prodAnswers(10)).to.deep.equal({ blue: 10 });
    expect((await prod.target.registry.champion(prod.repo.config.model.name))!.version).to.equal(versions.v1);
    expect((await prod.target.environments.describe("prod")).modelVersion).to.equal(versions.v1);
  });

  it("v3 (the fix) takes PROD through 10% -> 50% -> 100% while user traffic sees no error; v1 stays warm on blue at 0%", async () => {
    await writeFixedScore(prod.repo.root, prod.original);
    const r = await prod.releaseAndApprove();
    versions.v3 = r.model!.version;
    const users = userTraffic(prod.smoke);
    const t0 = Date.now();
    v3 = await prod.machine.promote(r.id);
    timings.rolloutMs = Date.now() - t0;
    const seen = await users.stop();
    expect(v3.state).to.equal("released");
    const d = v3.deployments.prod!;
    expect(d.previous!.modelVersion, "previous: what served 100% when v3 took over (v2 never did)").to.equal(versions.v1);
    expect(d.rollout!.outcome).to.equal("completed");
    expect(d.rollout!.steps.map((s) => [s.percent, s.passed])).to.deep.equal([
      [0, true],
      [10, true],
      [50, true],
      [100, true],
    ]);
    for (const s of d.rollout!.steps.slice(1)) expect(s.requests).to.be.greaterThanOrEqual(5);
    expect(seen.non200, JSON.stringify(seen)).to.equal(0);
    expect(seen.byUpstream.blue).to.be.greaterThan(0);
    expect(seen.byUpstream.green).to.be.greaterThan(0);
    const rec = await prod.prodRecord();
    expect(rec).to.deep.include({ slot: "green", modelVersion: versions.v3 });
    expect(rec.slots.blue!.modelVersion).to.equal(versions.v1);
    expect(await prodAnswers(5)).to.deep.equal({ green: 5 });
    expect(v3.validations.prod!.detail).to.include("all answered by green");
    const services = await prod.target.services();
    const running = Object.fromEntries(services.map((s) => [s.name, s.running]));
    expect(running).to.deep.include({ "router-prod": true, "inference-prod-blue": true, "inference-prod-green": true });
    expect(services.find((s) => s.name === "router-prod")!.detail).to.equal("weighted router: blue 0%, green 100%");
    expect((await prod.target.environments.describe("prod")).detail).to.match(
      /^serving v\d+ through the router on port 5672 \(blue 0%: v\d+ pid \d+ \(rollback target\); green 100%/,
    );
  });

  it("mlops rollback prod (CLI) flips PROD back to v1 at once, makes v1 champion again and records it", async () => {
    const users = userTraffic(prod.smoke);
    const out = await mlops(prod.repo.root, "--json", "rollback", "prod");
    const seen = await users.stop();
    timings.rollbackCliMs = out.ms;
    expect(out.code, out.stderr).to.equal(0);
    const json = JSON.parse(out.stdout) as { from: string; to: string; release: string };
    expect(json).to.deep.include({ from: versions.v3, to: versions.v1, release: v3.id });
    expect(seen.non200, JSON.stringify(seen)).to.equal(0);

    const rec = await prod.prodRecord();
    expect(rec).to.deep.include({ slot: "blue", modelVersion: versions.v1 });
    expect(rec.previous!.modelVersion).to.equal(versions.v3);
    expect(rec.rollback).to.deep.include({ fromVersion: versions.v3, toVersion: versions.v1, fromSlot: "green", toSlot: "blue", instant: true });
    timings.flipMs = rec.rollback!.flipMs;
    timings.rollbackTotalMs = rec.rollback!.totalMs;
    expect(await prodAnswers(5)).to.deep.equal({ blue: 5 });
    expect((await prod.target.registry.champion(prod.repo.config.model.name))!.version).to.equal(versions.v1);
    const events = (await prod.target.store.load(v3.id)).events;
    expect(events.at(-1)).to.deep.include({ event: "rolled-back" });
    expect(events.at(-1)!.detail).to.include(`serves v${versions.v1} again instead of v${versions.v3}`);
  });

  it("a second rollback refuses: no release records what PROD served before v1", async () => {
    const out = await mlops(prod.repo.root, "rollback", "prod");
    expect(out.code).to.equal(7);
    expect(out.stderr.trim().split("\n").at(-1)).to.equal(
      `mlops: no release records what prod served before v${versions.v1}; deploy the version you want with a release instead`,
    );
  });

  it("mlops down stops the router and both slots and keeps the record", async () => {
    const lines = await prod.target.down();
    expect(lines.some((l) => l.startsWith("stopped prod's router"))).to.equal(true);
    expect(lines.some((l) => l.startsWith("stopped prod's blue inference server"))).to.equal(true);
    expect(lines.some((l) => l.startsWith("stopped prod's green inference server"))).to.equal(true);
    expect((await prod.target.services()).every((s) => !s.running)).to.equal(true);
    expect((await prod.prodRecord()).modelVersion).to.equal(versions.v1);
  });
});
