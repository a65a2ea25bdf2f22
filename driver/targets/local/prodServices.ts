/** PROD's background processes on this machine (the router, the blue and green slots) for `mlops status` and `mlops down`. */
import type { ReleaseConfig } from "../../config/releaseConfig.js";
import { RouterClient } from "../../router/routerClient.js";
import { httpOk } from "../../host/httpProbe.js";
import { healthUri, scoringUri, stopInferenceServer } from "./inferenceServer.js";
import type { LocalPaths } from "./localPaths.js";
import type { LocalServiceStatus } from "./localServices.js";
import { readSlotServer, SLOTS, slotRunning } from "./prodSlots.js";
import { readRouterRecord, routerRunning, stopRouter } from "./routerProcess.js";

export async function prodServicesStatus(config: ReleaseConfig, paths: LocalPaths): Promise<LocalServiceStatus[]> {
  const ports = config.local.ports;
  const router = await readRouterRecord(paths);
  const running = routerRunning(router);
  const weights = running ? await new RouterClient(router.url, 3_000).state().then((s) => s.weights, () => undefined) : undefined;
  const out: LocalServiceStatus[] = [
    {
      name: "router-prod",
      port: router?.port ?? ports.prod,
      ...(router ? { url: router.url, pid: router.pid, logFile: router.logFile } : {}),
      running,
      healthy: !!weights,
      detail: weights ? `weighted router: ${SLOTS.map((s) => `${s} ${weights[s] ?? 0}%`).join(", ")}` : running ? `pid ${router.pid} does not answer its admin API` : "not running (starts with the first prod deploy)",
    },
  ];
  for (const slot of SLOTS) {
    const srv = await readSlotServer(paths, slot);
    const up = slotRunning(srv);
    const healthy = !!srv && up && (await httpOk(healthUri(srv.port)));
    out.push({
      name: `inference-prod-${slot}`,
      port: srv?.port ?? (slot === "blue" ? ports.prodBlue : ports.prodGreen),
      ...(srv ? { url: scoringUri(srv.port), pid: srv.pid, logFile: srv.logFile } : {}),
      running: up,
      healthy,
      detail: !srv ? "idle (no server)" : healthy ? `v${srv.modelVersion}${weights ? `, ${weights[slot] ?? 0}% of prod's traffic` : ""}` : up ? `pid ${srv.pid} does not answer health` : `v${srv.modelVersion} recorded, server stopped`,
    });
  }
  return out;
}

/** Stops the router and both slots; one line per process stopped. The router's state file (weights) is kept. */
export async function stopProdServices(paths: LocalPaths): Promise<string[]> {
  const lines: string[] = [];
  const r = await stopRouter(paths);
  if (r) lines.push(r);
  for (const slot of SLOTS) {
    const srv = await readSlotServer(paths, slot);
    if (srv && (await stopInferenceServer(srv.pid))) lines.push(`stopped prod's ${slot} inference server (pid ${srv.pid}, port ${srv.port}, v${srv.modelVersion})`);
  }
  return lines;
}
