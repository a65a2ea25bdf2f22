/**
 * The router's state file (JSON): where it listens, its upstreams and their weights. The driver writes it
 * before starting the router; the router rewrites the weights when they change, so a restarted router comes
 * back with the traffic split it had. Writes are atomic (temp file + rename).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import type { RouterState } from "./routerTypes.js";

export interface RouterStateFile extends RouterState {
  host: string;
  port: number;
  /** largest request body forwarded (scoring.maxRequestBytes); the router's default when absent */
  maxRequestBytes?: number;
}

export async function readRouterStateFile(file: string): Promise<RouterStateFile> {
  const raw = JSON.parse(await readFile(file, "utf8")) as Partial<RouterStateFile>;
  if (typeof raw.port !== "number" || !raw.upstreams || !raw.weights) throw new Error(`${file} is not a router state file (needs port, upstreams, weights)`);
  return {
    host: raw.host ?? "127.0.0.1",
    port: raw.port,
    upstreams: raw.upstreams,
    weights: raw.weights,
    ...(typeof raw.maxRequestBytes === "number" ? { maxRequestBytes: raw.maxRequestBytes } : {}),
  };
}

export async function writeRouterStateFile(file: string, state: RouterStateFile): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + "\n");
  await rename(tmp, file);
}
