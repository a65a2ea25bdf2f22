/**
 * RolloutControl over the local weighted router: weights through its admin API (its own loopback listener,
 * token from the router's 0600 admin file; each change logged by the router with its step), the new deployment's
 * counters from its state, health straight from the new inference server, and probe scoring traffic through
 * the router while a step is observed. Shadow traffic: the router's mirror (PUT/GET /-/router/shadow), pairs read
 * after the sequence number it reported when mirroring started.
 */
import { RouterClient } from "../../router/routerClient.js";
import { emptyCounters, type UpstreamCounters } from "../../router/routerTypes.js";
import { sendProbeTraffic } from "../../rollout/probeTraffic.js";
import type { RolloutControl } from "../../rollout/stagedRollout.js";
import type { ShadowControl } from "../../rollout/shadowPhase.js";
import type { ShadowPairs } from "../../rollout/shadowTypes.js";

export interface RouterRolloutOptions {
  router: RouterClient;
  from: string;
  to: string;
  /** GET this URL of the new server directly: 2xx is healthy */
  newHealthUrl: string;
  /** scoring path through the router, e.g. /score */
  scorePath: string;
  probeBody: string;
  probeRps: number;
  healthTimeoutMs?: number;
}

export class RouterRolloutControl implements RolloutControl {
  readonly shadow: ShadowControl;

  constructor(private readonly o: RouterRolloutOptions) {
    const { router, from, to } = o;
    let since = { seq: 0, dropped: 0 };
    this.shadow = {
      start: async (percent) => {
        const s = await router.setShadow({ to, percent }, `shadow ${from} -> ${to}, ${percent}% of live requests`).catch((e: Error) => {
          // a router started by an mlops before shadow traffic existed keeps running across upgrades
          if (/^router PUT \/shadow: 404/.test(e.message))
            throw new Error(`prod's router predates shadow traffic (no /-/router/shadow); run 'mlops down' and deploy again`);
          throw e;
        });
        since = { seq: s.lastSeq, dropped: s.dropped };
      },
      pairs: async (): Promise<ShadowPairs> => {
        // copies still in flight are waited for, at most as long as one copy may take (the mirror's timeout)
        let s = await router.shadow(since.seq);
        for (const until = Date.now() + (s.config?.timeoutMs ?? 0) + 500; s.inFlight > 0 && Date.now() < until;) {
          await new Promise((r) => setTimeout(r, 50));
          s = await router.shadow(since.seq);
        }
        return { pairs: s.pairs, dropped: s.dropped - since.dropped + s.missed };
      },
      stop: async () => {
        await router.setShadow({ percent: 0 }, `shadow ${from} -> ${to} ends`);
      },
    };
  }

  async setNewWeight(percent: number): Promise<void> {
    await this.o.router.setWeights({ [this.o.from]: 100 - percent, [this.o.to]: percent }, `rollout ${this.o.from} -> ${this.o.to}, step ${percent}%`);
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      const res = await fetch(this.o.newHealthUrl, { signal: AbortSignal.timeout(this.o.healthTimeoutMs ?? 3_000) });
      await res.arrayBuffer();
      return { ok: res.ok, detail: `${this.o.to} health ${res.status}` };
    } catch (e) {
      return { ok: false, detail: `${this.o.to} health check failed: ${(e as Error).message}` };
    }
  }

  async counters(): Promise<UpstreamCounters> {
    return (await this.o.router.state()).counters[this.o.to] ?? emptyCounters();
  }

  async observe(seconds: number): Promise<void> {
    await sendProbeTraffic({ url: `${this.o.router.baseUrl}${this.o.scorePath}`, body: this.o.probeBody, rps: this.o.probeRps, seconds });
  }
}
