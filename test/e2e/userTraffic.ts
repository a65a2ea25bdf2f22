/** Scoring traffic of a "user" of PROD while something happens (a rollout, a rollback): paced, bounded (at most `rps` req/s for 5 min). */
import { postScore, type SmokeRequest } from "../../driver/host/smokeRequest.js";

export interface UserTrafficSeen {
  sent: number;
  non200: number;
  byUpstream: Record<string, number>;
}

export function userTraffic(scoreUrl: string, smoke: SmokeRequest, rps = 10): { stop(): Promise<UserTrafficSeen> } {
  let stopped = false;
  const byUpstream: Record<string, number> = {};
  let sent = 0;
  let non200 = 0;
  const loop = (async () => {
    for (let i = 0; i < rps * 300 && !stopped; i++) {
      const t0 = Date.now();
      const r = await postScore(scoreUrl, smoke.payload, 5_000).catch(() => ({ status: 0, upstream: undefined }));
      sent += 1;
      if (r.status !== 200) non200 += 1;
      const u = r.upstream ?? "none";
      byUpstream[u] = (byUpstream[u] ?? 0) + 1;
      await new Promise((res) => setTimeout(res, Math.max(0, 1000 / rps - (Date.now() - t0))));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { sent, non200, byUpstream };
    },
  };
}
