/**
 * PROD on the local target: the weighted router on local.ports.prod in front of two azmlinfsrv slots (blue,
 * green). A new version starts on the idle slot, must answer health and the smoke request, then takes the
 * traffic in steps (runStagedRollout through the router, with probe traffic while each step is observed).
 * Completed: the new slot has 100% and the old one keeps running at 0%, the instant rollback target. Rolled
 * back: the old slot has 100% again, the new one is stopped and the deploy fails with the rollout's reason.
 * PROD never stops answering during a deploy.
 */
import { sha256Hex } from "../../../config/sha256.js";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RolloutConfig } from "../../config/profileRolloutConfig.js";
import { RolloutRolledBackError } from "../../core/errors.js";
import type { Progress, StackStatus } from "../../core/ports.js";
import type { DeploymentRecord, RegisteredModel, ValidationResult } from "../../core/release.js";
import type { MlflowClient } from "../../mlflow/mlflowClient.js";
import { RouterRolloutControl } from "./routerRolloutControl.js";
import type { RolloutRecord } from "../../rollout/rolloutTypes.js";
import { rolloutFailure, runStagedRollout } from "../../rollout/stagedRollout.js";
import { RouterClient } from "../../router/routerClient.js";
import { checkEndpoint, validationResult } from "./endpointValidation.js";
import { httpOk } from "../../host/httpProbe.js";
import { healthUri, inferenceRunning, stopInferenceServer } from "./inferenceServer.js";
import { removeFile, writeJsonAtomic } from "../../host/jsonFile.js";
import { publicRecord, readDeployment, type LocalDeployment } from "./localDeployment.js";
import type { LocalPaths } from "./localPaths.js";
import { MODEL_FILE } from "./modelArtifacts.js";
import { waitPortFree } from "../../host/portProbe.js";
import { claimPort } from "../../host/serviceProcess.js";
import {
  isBlueGreen,
  otherSlot,
  readSlotServer,
  serves,
  slotHealthy,
  slotPortKey,
  slotRunning,
  type ProdDeployment,
  type RollbackRecord,
  type Slot,
  type SlotServer,
} from "./prodSlots.js";
import type { PythonEnv } from "../../host/pythonEnv.js";
import { entryScriptOf, type StartServer } from "./readyServer.js";
import { ensureRouter, readRouterRecord, routerClientOf, routerRunning, routerUrl, type RunningRouterProcess } from "./routerProcess.js";
import { readSmokeRequest } from "../../host/smokeRequest.js";
import { fetchVerifiedModel } from "./verifiedModel.js";

export interface BlueGreenProdDeps {
  paths: LocalPaths;
  ports: { router: number; blue: number; green: number };
  smokeRequest: string;
  rollout: RolloutConfig;
  /** scoring.maxRequestBytes: the router answers 413 above it */
  maxRequestBytes?: number;
  pythonEnv: () => Promise<PythonEnv>;
  mlflow: () => Promise<MlflowClient>;
  /** the one way the local target starts an inference server (INT's too) */
  start: StartServer;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** The slot a deploy has just started `model` on, with what the record of it needs. */
interface NextSlot {
  model: RegisteredModel;
  slot: Slot;
  server: SlotServer;
  router: RunningRouterProcess;
  previous?: { modelVersion: string; digest: string };
  started: number;
}

export class BlueGreenProd {
  constructor(private readonly d: BlueGreenProdDeps) {}

  private get entryScript(): string {
    return entryScriptOf(this.d.paths);
  }

  private slotPort(slot: Slot): number {
    return slot === "blue" ? this.d.ports.blue : this.d.ports.green;
  }

  private upstreams(): Record<Slot, string> {
    return { blue: routerUrl(this.d.ports.blue), green: routerUrl(this.d.ports.green) };
  }

  private router(progress: Progress): Promise<RunningRouterProcess> {
    const limit = this.d.maxRequestBytes ? { maxRequestBytes: this.d.maxRequestBytes } : {};
    return ensureRouter({ paths: this.d.paths, port: this.d.ports.router, upstreams: this.upstreams(), ...limit, progress });
  }

  private async setServing(client: RouterClient, slot: Slot): Promise<number> {
    const t0 = performance.now();
    await client.setWeights({ [slot]: 100, [otherSlot(slot)]: 0 }, `${slot} serves 100%`);
    return performance.now() - t0;
  }

  /** A slot server for `model`: the one already running there when it serves exactly that version, else a new one. */
  private async startOnSlot(slot: Slot, model: RegisteredModel, progress: Progress): Promise<{ server: SlotServer; reused: boolean }> {
    const { paths } = this.d;
    const existing = await readSlotServer(paths, slot);
    if (serves(existing, model) && (await slotHealthy(existing))) {
      progress.info(`${slot} already runs v${model.version} (pid ${existing!.pid}); reusing it`);
      return { server: existing!, reused: true };
    }
    const modelDir = await fetchVerifiedModel({ paths, client: await this.d.mlflow(), stack: "prod", model, progress });
    const env = await this.d.pythonEnv();
    if (existing && slotRunning(existing)) {
      progress.info(`stopping ${slot} (v${existing.modelVersion}, pid ${existing.pid}) to start v${model.version} there; it takes no traffic`);
      await stopInferenceServer(existing);
    }
    await removeFile(paths.slotService(slot));
    const port = this.slotPort(slot);
    await claimPort({ port, key: slotPortKey(slot), stateDir: paths.stateDir, progress });
    const extra = {
      slot,
      modelName: model.name,
      modelVersion: model.version,
      digest: model.digest,
      modelDir,
      entryScriptSha256: sha256Hex(await readFile(this.entryScript)),
    };
    // the slot's record is written (with its start token) before the server is spawned, not once it is ready
    const proc = await this.d.start({
      env,
      stack: "prod",
      label: `prod (${slot})`,
      logName: `prod-${slot}`,
      modelDir,
      port,
      progress,
      service: `inference-prod-${slot}`,
      recordFile: paths.slotService(slot),
      extra,
    });
    const server: SlotServer = proc.record;
    return { server, reused: false };
  }

  private async slots(): Promise<Partial<Record<Slot, SlotServer>>> {
    const out: Partial<Record<Slot, SlotServer>> = {};
    for (const s of ["blue", "green"] as const) {
      const srv = await readSlotServer(this.d.paths, s);
      if (slotRunning(srv)) out[s] = srv;
    }
    return out;
  }

  private async record(o: {
    server: SlotServer;
    router: RunningRouterProcess;
    previous?: { modelVersion: string; digest: string };
    detail: string;
    rollout?: RolloutRecord;
    rollback?: RollbackRecord;
  }): Promise<ProdDeployment> {
    const s = o.server;
    const rec: ProdDeployment = {
      stack: "prod",
      modelName: s.modelName,
      modelVersion: s.modelVersion,
      digest: s.digest,
      scoringUri: `${o.router.record.url}/score`,
      deployedAt: new Date().toISOString(),
      ...(o.previous ? { previous: o.previous } : {}),
      detail: o.detail,
      ...(o.rollout ? { rollout: o.rollout } : {}),
      pid: s.pid,
      port: o.router.record.port,
      modelDir: s.modelDir,
      logFile: s.logFile,
      entryScript: this.entryScript,
      entryScriptSha256: s.entryScriptSha256,
      slot: s.slot,
      slots: await this.slots(),
      router: o.router.record,
      ...(o.rollback ? { rollback: o.rollback } : {}),
    };
    await writeJsonAtomic(this.d.paths.deploymentFile("prod"), rec);
    return rec;
  }

  /**
   * Three ways: prod already serves `model` (no change); nothing serves prod (first deploy, or after `mlops down`):
   * the new slot takes 100% at once; else a staged rollout beside the serving slot.
   */
  async deploy(model: RegisteredModel, progress: Progress): Promise<DeploymentRecord> {
    const { paths } = this.d;
    const started = Date.now();
    const current: LocalDeployment | undefined = await readDeployment(paths, "prod");
    if (current && !isBlueGreen(current)) {
      // a record from the single-server PROD: that server holds the router's port
      if (inferenceRunning(current)) {
        progress.info(`stopping the single-server prod (v${current.modelVersion}, pid ${current.pid}): prod now runs blue/green behind a router`);
        await stopInferenceServer(current);
        await waitPortFree(current.port, 15_000);
      }
    }
    const router = await this.router(progress);
    const bg = isBlueGreen(current) ? current : undefined;
    const active = bg?.slot;
    const activeServer = active ? await readSlotServer(paths, active) : undefined;
    const activeUp =
      !!active &&
      serves(activeServer, { name: current!.modelName, version: current!.modelVersion, digest: current!.digest }) &&
      (await slotHealthy(activeServer));

    if (bg && activeUp && serves(activeServer, model)) return this.unchanged(bg, model, router);

    const previous = current && current.modelVersion !== model.version ? { modelVersion: current.modelVersion, digest: current.digest } : current?.previous;
    const slot: Slot = active ? otherSlot(active) : "blue";
    const { server, reused } = await this.startOnSlot(slot, model, progress);
    const next: NextSlot = { model, slot, server, router, ...(previous ? { previous } : {}), started };
    if (!activeUp) return this.takeAllAtOnce(next, current, active, `${slot} ${reused ? "was already running" : `ready in ${secs(Date.now() - started)}`}`);
    return this.rollOut(next, bg!, progress);
  }

  /** Prod already serves `model`: its slot gets 100% back if the weights drifted, nothing else changes. */
  private async unchanged(bg: ProdDeployment, model: RegisteredModel, router: RunningRouterProcess): Promise<DeploymentRecord> {
    const weights = (await router.client.state()).weights;
    if (weights[bg.slot] !== 100) await this.setServing(router.client, bg.slot);
    return { ...publicRecord(bg), detail: `no change: prod already serves v${model.version} (${bg.slot}, 100%)` };
  }

  /** Nothing to shift traffic from: the new slot, ready and smoke-tested, takes 100% at once. */
  private async takeAllAtOnce(n: NextSlot, current: LocalDeployment | undefined, active: Slot | undefined, ready: string): Promise<DeploymentRecord> {
    const { model, slot, server, router, previous } = n;
    const at = new Date().toISOString();
    await this.setServing(router.client, slot);
    const why = !current
      ? "first deploy: nothing served prod before"
      : `v${current.modelVersion} was not running (mlops down or a reboot), nothing to shift traffic from`;
    const rollout: RolloutRecord = {
      from: active ?? "none",
      to: slot,
      ...(current ? { fromVersion: current.modelVersion } : {}),
      toVersion: model.version,
      outcome: "completed",
      steps: [
        {
          percent: 100,
          startedAt: at,
          endedAt: new Date().toISOString(),
          healthy: true,
          requests: 0,
          errors: 0,
          errorRate: 0,
          passed: true,
          detail: `${why}; 100% after the health and smoke checks`,
        },
      ],
      detail: `${why}; ${slot} (v${model.version}) took 100% after its health and smoke checks, no canary`,
    };
    const rec = await this.record({
      server,
      router,
      ...(previous ? { previous } : {}),
      rollout,
      detail: `prod serves ${model.name} v${model.version} on ${slot} behind the router at ${router.record.url} (${ready}; ${why}, 100% at once)`,
    });
    return publicRecord(rec);
  }

  /** The staged rollout beside the serving slot; a failed step rolls back and fails the deploy. */
  private async rollOut(n: NextSlot, bg: ProdDeployment, progress: Progress): Promise<DeploymentRecord> {
    const { paths } = this.d;
    const { model, slot, server, router, previous, started } = n;
    const active = bg.slot;
    const smoke = await readSmokeRequest(paths.repoRoot, this.d.smokeRequest);
    const r = this.d.rollout;
    const { enabled: shadowOn, ...shadow } = r.shadow;
    progress.info(
      `rolling out v${model.version} on ${slot} beside v${bg.modelVersion} on ${active}: ${shadowOn ? `shadow ${shadow.percent}% for ${shadow.seconds}s, then ` : ""}${r.steps.map((s) => `${s}%`).join(" -> ")}, ${r.observeSeconds}s each with ${r.probeRps} probe req/s`,
    );
    const rollout = await runStagedRollout({
      from: active,
      to: slot,
      fromVersion: bg.modelVersion,
      toVersion: model.version,
      settings: r,
      ...(shadowOn ? { shadow } : {}),
      control: new RouterRolloutControl({
        router: router.client,
        from: active,
        to: slot,
        newHealthUrl: healthUri(server.port),
        scorePath: "/score",
        probeBody: JSON.stringify(smoke.payload),
        probeRps: r.probeRps,
      }),
      onStep: (s) => progress.info(`rollout ${s.percent}%: ${s.passed ? "ok" : "FAILED"}: ${s.detail}`),
      onShadow: (s) => progress.info(`shadow ${s.percent}% to ${s.to}: ${s.passed ? "ok" : "FAILED"}: ${s.detail}`),
    });
    if (rollout.outcome === "rolled-back") {
      await this.setServing(router.client, active).catch(() => undefined);
      await stopInferenceServer(server);
      await removeFile(paths.slotService(slot));
      await writeJsonAtomic(paths.deploymentFile("prod"), { ...bg, slots: await this.slots(), lastFailedRollout: rollout });
      throw new RolloutRolledBackError(`${rolloutFailure(model.version, rollout)}; prod keeps serving v${bg.modelVersion}; see ${server.logFile}`, rollout);
    }
    const rec = await this.record({
      server,
      router,
      ...(previous ? { previous } : {}),
      rollout,
      detail: `prod serves ${model.name} v${model.version} on ${slot} (was v${bg.modelVersion} on ${active}, kept warm at 0% for rollback) after ${r.steps.map((s) => `${s}%`).join(" -> ")} in ${secs(Date.now() - started)}`,
    });
    return publicRecord(rec);
  }

  /**
   * Puts `to` back: an instant router flip when it still runs on the idle slot, else a restart there (health and
   * smoke checked) and then the flip. No staged rollout: `to` served 100% of prod before.
   */
  async rollBack(to: RegisteredModel, progress: Progress): Promise<DeploymentRecord> {
    const { paths } = this.d;
    const current = await readDeployment(paths, "prod");
    if (!isBlueGreen(current)) return this.deploy(to, progress);
    const t0 = performance.now();
    const router = await this.router(progress);
    const from = current.slot;
    const slot = otherSlot(from);
    const idle = await readSlotServer(paths, slot);
    const instant = serves(idle, to) && (await slotHealthy(idle));
    if (!instant) progress.info(`v${to.version} no longer runs on ${slot}; starting it there before the flip`);
    const { server } = await this.startOnSlot(slot, to, progress);
    const flipMs = await this.setServing(router.client, slot);
    const totalMs = performance.now() - t0;
    const detail = `rolled back: prod serves v${to.version} on ${slot} again instead of v${current.modelVersion} (${instant ? "instant router flip" : "restarted, then flipped"}: weights applied in ${flipMs.toFixed(0)} ms, ${totalMs.toFixed(0)} ms in all; v${current.modelVersion} stays on ${from} at 0%)`;
    progress.info(detail);
    const rollback: RollbackRecord = {
      at: new Date().toISOString(),
      fromVersion: current.modelVersion,
      toVersion: to.version,
      fromSlot: from,
      toSlot: slot,
      instant,
      flipMs: Math.round(flipMs * 10) / 10,
      totalMs: Math.round(totalMs),
      detail,
    };
    const rec = await this.record({ server, router, previous: { modelVersion: current.modelVersion, digest: current.digest }, rollback, detail });
    return publicRecord(rec);
  }

  async validate(deployment: DeploymentRecord, progress: Progress): Promise<ValidationResult> {
    const result = validationResult("prod", deployment);
    const rec = await readDeployment(this.d.paths, "prod");
    if (!isBlueGreen(rec) || rec.modelVersion !== deployment.modelVersion || rec.digest !== deployment.digest) {
      return result(
        false,
        0,
        0,
        `prod serves ${rec ? `v${rec.modelVersion} (${rec.digest.slice(0, 12)})` : "nothing"}, not v${deployment.modelVersion} (${deployment.digest.slice(0, 12)})`,
      );
    }
    const server = await readSlotServer(this.d.paths, rec.slot);
    if (!server || !serves(server, { name: rec.modelName, version: rec.modelVersion, digest: rec.digest }) || !slotRunning(server)) {
      return result(false, 0, 0, `prod's ${rec.slot} slot does not run v${rec.modelVersion}; redeploy with 'mlops resume'`);
    }
    if (!routerRunning(await readRouterRecord(this.d.paths))) return result(false, 0, 0, `prod's router is not running; redeploy with 'mlops resume'`);
    const onDisk = await readFile(path.join(server.modelDir, MODEL_FILE)).then(sha256Hex, () => "");
    if (onDisk !== rec.digest)
      return result(false, 0, 0, `prod's ${MODEL_FILE} on disk hashes to ${onDisk.slice(0, 12) || "(missing)"}, not ${rec.digest.slice(0, 12)}`);
    const health = `${routerUrl(rec.port)}/`;
    if (!(await httpOk(health))) return result(false, 0, 0, `prod does not answer GET ${health} through the router; see ${server.logFile}`);
    const smoke = await readSmokeRequest(this.d.paths.repoRoot, this.d.smokeRequest);
    progress.info(`scoring ${smoke.payload.data.length} rows from ${this.d.smokeRequest} through the router at ${rec.scoringUri} (expecting ${rec.slot})`);
    const c = await checkEndpoint({ scoringUri: rec.scoringUri, healthUri: health, smoke, expectUpstream: rec.slot });
    return result(c.ok, c.predictions, c.latencyMs, c.ok ? `prod v${rec.modelVersion} on ${rec.slot}: ${c.detail}` : c.detail);
  }

  async describe(): Promise<StackStatus> {
    const rec = await readDeployment(this.d.paths, "prod");
    if (!rec) return { stack: "prod", healthy: false, detail: "nothing deployed to prod on this machine" };
    const base = { stack: "prod" as const, modelName: rec.modelName, modelVersion: rec.modelVersion, digest: rec.digest, scoringUri: rec.scoringUri };
    if (!isBlueGreen(rec)) {
      const running = inferenceRunning(rec);
      return {
        ...base,
        healthy: false,
        detail: `v${rec.modelVersion} deployed by an earlier driver (single server${running ? `, pid ${rec.pid}` : ", stopped"}); the next prod deploy moves it behind the router`,
      };
    }
    const router = await readRouterRecord(this.d.paths);
    const weights = routerRunning(router) ? await this.weights(router) : undefined;
    const parts: string[] = [];
    for (const s of ["blue", "green"] as const) {
      const srv = await readSlotServer(this.d.paths, s);
      const up = slotRunning(srv);
      parts.push(
        `${s} ${weights ? `${weights[s] ?? 0}%` : "-"}: ${srv && up ? `v${srv.modelVersion} pid ${srv.pid}${s !== rec.slot && (weights?.[s] ?? 0) === 0 ? " (rollback target)" : ""}` : "stopped"}`,
      );
    }
    const serving = await readSlotServer(this.d.paths, rec.slot);
    const healthy = !!weights && weights[rec.slot] === 100 && (await slotHealthy(serving)) && (await httpOk(`${routerUrl(rec.port)}/`));
    const detail = healthy
      ? `serving v${rec.modelVersion} through the router on port ${rec.port} (${parts.join("; ")})`
      : !routerRunning(router)
        ? `v${rec.modelVersion} deployed but prod's router is stopped ('mlops down' or a reboot); 'mlops resume' or a new release starts it (${parts.join("; ")})`
        : `router on port ${rec.port} runs but v${rec.modelVersion} on ${rec.slot} is not serving 100% (${parts.join("; ")}); see ${rec.logFile}`;
    return { ...base, healthy, detail };
  }

  private async weights(router: { url: string; stateFile: string }): Promise<Record<string, number> | undefined> {
    return routerClientOf(router, 3_000)
      .state()
      .then(
        (s) => s.weights,
        () => undefined,
      );
  }
}
