/**
 * The shadow phase on Azure ML, from the driver's own probe requests. Azure ML's mirrored traffic (the endpoint's
 * `mirrorTraffic`) is not supported on Kubernetes online endpoints, which PROD is, and Azure never returns a
 * mirrored answer anyway (docs/azure-target.md). So while the shadow phase is observed, each probe (the smoke
 * payload) goes to the serving deployment with `azureml-model-deployment: <from>`, and for `percent` of them,
 * once that answer is in, the same request goes to the new deployment (`<to>`, still at weight 0). The two
 * answers make a pair, judged like the local router's pairs (shadowCompare.ts). Users' requests are neither
 * copied nor compared. Bounded: ceil(rps × seconds) probes, each call with a timeout; the credential is never
 * recorded (error texts pass through `redact`).
 */
import type { SmokeRequest } from "../../host/smokeRequest.js";
import type { ShadowControl } from "../../rollout/shadowPhase.js";
import type { ShadowAnswer, ShadowPair, ShadowPairs } from "../../rollout/shadowTypes.js";
import { parseScoreBody } from "./azureSmokeTest.js";
import { DEPLOYMENT_HEADER } from "./deploymentProbes.js";
import type { EndpointAuth } from "./endpointAuth.js";

export interface PairedProbeOptions {
  scoringUri: string;
  auth: EndpointAuth;
  smoke: SmokeRequest;
  /** the serving deployment and the new one */
  from: string;
  to: string;
  /** probes per second while the phase is observed */
  rps: number;
  timeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class PairedShadowProbes implements ShadowControl {
  private percent = 0;
  private acc = 0;
  private recorded: ShadowPair[] = [];

  constructor(private readonly o: PairedProbeOptions) {}

  async start(percent: number): Promise<void> {
    this.percent = percent;
    this.acc = 0;
    this.recorded = [];
  }

  async pairs(): Promise<ShadowPairs> {
    return { pairs: [...this.recorded], dropped: 0 };
  }

  async stop(): Promise<void> {
    this.percent = 0;
  }

  /** Paced probes for `seconds`: each to `from`, `percent` of them also to `to`. */
  async observe(seconds: number): Promise<void> {
    const { rps } = this.o;
    if (rps <= 0 || seconds <= 0) return sleep(Math.max(0, seconds) * 1000);
    const total = Math.ceil(rps * seconds);
    const start = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / rps - performance.now();
      if (wait > 0) await sleep(wait);
      inflight.push(this.probe());
    }
    await Promise.all(inflight);
    const left = start + seconds * 1000 - performance.now();
    if (left > 0) await sleep(left);
  }

  private async probe(): Promise<void> {
    const copy = this.percent > 0 && (this.acc += this.percent) >= 100;
    if (copy) this.acc -= 100;
    const live = await this.call(this.o.from);
    if (!copy || live.status === 0) return;
    const shadow = await this.call(this.o.to);
    this.recorded.push({ seq: this.recorded.length + 1, live, shadow });
  }

  private async call(deployment: string): Promise<ShadowAnswer> {
    const t0 = performance.now();
    try {
      const res = await fetch(this.o.scoringUri, {
        method: "POST",
        headers: { "content-type": "application/json", ...this.o.auth.headers, [DEPLOYMENT_HEADER]: deployment },
        body: JSON.stringify(this.o.smoke.payload),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        redirect: "manual",
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      const servedBy = res.headers.get(DEPLOYMENT_HEADER);
      // the header was not honoured: the answer is not the deployment's we asked, so it compares nothing
      if (servedBy && servedBy !== deployment) return { upstream: deployment, status: 0, ms, error: `answered by ${servedBy}` };
      const parsed = parseScoreBody(text);
      return { upstream: deployment, status: res.status, ms, body: typeof parsed === "string" ? parsed : JSON.stringify(parsed) };
    } catch (e) {
      return { upstream: deployment, status: 0, ms: performance.now() - t0, error: this.o.auth.redact((e as Error).message) };
    }
  }
}
