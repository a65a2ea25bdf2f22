/**
 * Probe traffic for a staged rollout on an Azure ML online endpoint. The endpoint routes a request to a named
 * deployment, whatever the traffic split, when it carries the header `azureml-model-deployment: <name>`
 * (Azure ML's safe-rollout docs and azureml-examples' deploy-safe-rollout scripts; for Kubernetes endpoints
 * the examples show it but never run it, see docs/azure-target.md). So the new deployment is judged on:
 *
 *   - health: the smoke request sent straight to it, predictions checked like validate does;
 *   - error rate: paced probes (the smoke payload), alternately straight to it and through the endpoint's
 *     traffic split. Direct probes all count for it; an endpoint probe counts when the answer names it in its
 *     `azureml-model-deployment` response header, and a failed endpoint probe that names no deployment counts
 *     against it too (the safe side: a rollout that cannot tell, rolls back). Any answer other than 2xx to the
 *     validated smoke request is an error.
 *
 * Bounded: at most ceil(rps × seconds) requests per observation, each with a timeout. The credential is
 * never logged; texts pass through `redact`.
 */
import { emptyCounters, type UpstreamCounters } from "../../router/routerTypes.js";
import type { EndpointAuth } from "./endpointAuth.js";
import type { SmokeRequest } from "../../host/smokeRequest.js";
import { runSmoke } from "./azureSmokeTest.js";

export const DEPLOYMENT_HEADER = "azureml-model-deployment";

export interface DeploymentProbeOptions {
  scoringUri: string;
  auth: EndpointAuth;
  smoke: SmokeRequest;
  /** the deployment under test (the new color) */
  deployment: string;
  /** probe requests per second while a step is observed (0: none) */
  rps: number;
  timeoutMs?: number;
}

type Outcome = { status?: number; servedBy?: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class DeploymentProbes {
  private readonly tally: UpstreamCounters = emptyCounters();
  /** endpoint probes answered by the other deployment (not counted) and by nobody named */
  readonly seen = { direct: 0, viaEndpoint: 0, viaEndpointToOthers: 0, unattributedFailures: 0, misrouted: 0 };

  constructor(private readonly o: DeploymentProbeOptions) {}

  counters(): UpstreamCounters {
    return { ...this.tally };
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    const out = await runSmoke(this.o.scoringUri, { ...this.o.auth.headers, [DEPLOYMENT_HEADER]: this.o.deployment }, this.o.smoke, this.o.timeoutMs ?? 30_000);
    return { ok: out.ok, detail: this.o.auth.redact(`${this.o.deployment}: ${out.detail}`) };
  }

  async observe(seconds: number): Promise<void> {
    const { rps } = this.o;
    if (rps <= 0 || seconds <= 0) {
      await sleep(Math.max(0, seconds) * 1000);
      return;
    }
    const total = Math.ceil(rps * seconds);
    const gapMs = 1000 / rps;
    const start = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = start + i * gapMs - performance.now();
      if (wait > 0) await sleep(wait);
      const direct = i % 2 === 0;
      inflight.push(this.send(direct).then((o) => this.count(direct, o)));
    }
    await Promise.all(inflight);
    const left = start + seconds * 1000 - performance.now();
    if (left > 0) await sleep(left);
  }

  private async send(direct: boolean): Promise<Outcome> {
    try {
      const res = await fetch(this.o.scoringUri, {
        method: "POST",
        headers: { "content-type": "application/json", ...this.o.auth.headers, ...(direct ? { [DEPLOYMENT_HEADER]: this.o.deployment } : {}) },
        body: JSON.stringify(this.o.smoke.payload),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        redirect: "manual",
      });
      await res.arrayBuffer();
      const servedBy = res.headers.get(DEPLOYMENT_HEADER) ?? undefined;
      return { status: res.status, ...(servedBy ? { servedBy } : {}) };
    } catch {
      return {};
    }
  }

  private count(direct: boolean, o: Outcome): void {
    const ok = o.status !== undefined && o.status >= 200 && o.status < 300;
    if (direct) {
      this.seen.direct += 1;
      if (o.servedBy && o.servedBy !== this.o.deployment) {
        // the header was not honoured: this answer says nothing about the new deployment, and the check cannot trust the rest
        this.seen.misrouted += 1;
        this.add({ failed: true });
        return;
      }
      this.add(o.status === undefined ? { failed: true } : { ok });
      return;
    }
    this.seen.viaEndpoint += 1;
    if (o.servedBy === this.o.deployment) this.add(o.status === undefined ? { failed: true } : { ok });
    else if (o.servedBy) this.seen.viaEndpointToOthers += 1;
    else if (!ok) {
      this.seen.unattributedFailures += 1;
      this.add(o.status === undefined ? { failed: true } : { ok: false });
    }
  }

  private add(r: { ok?: boolean; failed?: boolean }): void {
    this.tally.requests += 1;
    if (r.failed) this.tally.failed += 1;
    else if (r.ok) this.tally.ok += 1;
    else this.tally.serverErrors += 1;
  }
}
