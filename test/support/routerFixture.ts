/**
 * For the tests of PROD's router process: a temporary state dir with the local target's paths, and two loopback
 * upstreams answering their own name ("blue", "green"), made before the tests of the calling `describe` and
 * removed after them (the router stopped first).
 */
import http from "node:http";
import type net from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { localPaths, type LocalPaths } from "../../driver/targets/local/localPaths.js";
import { stopRouter } from "../../driver/targets/local/routerProcess.js";

export interface Upstream {
  url: string;
  close(): Promise<void>;
}

export async function upstream(name: string): Promise<Upstream> {
  const srv = http.createServer((_req, res) => res.end(name));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, close: () => new Promise((r) => srv.close(() => r())) };
}

export function routerFixture(prefix: string): { readonly dir: string; readonly paths: LocalPaths; readonly blue: Upstream; readonly green: Upstream } {
  const f = {} as { dir: string; paths: LocalPaths; blue: Upstream; green: Upstream };
  before(async () => {
    f.dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    f.paths = localPaths(f.dir);
    f.blue = await upstream("blue");
    f.green = await upstream("green");
  });
  after(async () => {
    await stopRouter(f.paths);
    await f.blue.close();
    await f.green.close();
    await rm(f.dir, { recursive: true, force: true });
  });
  return f;
}
