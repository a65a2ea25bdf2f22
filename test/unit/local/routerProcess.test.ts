import net from "node:net";
import { readFile } from "node:fs/promises";
import { expect } from "chai";
import { ensureRouter, readRouterRecord, routerRunning, stopRouter } from "../../../driver/targets/local/routerProcess.js";
import { silentProgress } from "../../support/fakeTarget.js";
import { routerFixture } from "../../support/routerFixture.js";
import { freePort } from "../../support/freePort.js";

const get = async (url: string): Promise<{ body: string; upstream: string | null }> => {
  const res = await fetch(url);
  return { body: await res.text(), upstream: res.headers.get("x-mlops-upstream") };
};

describe("PROD's router as a background process of the local target", function () {
  this.timeout(60_000);
  const fx = routerFixture("mlops-router-");

  it("starts detached on loopback, is reused while it runs, and a restarted router keeps the weights it had", async () => {
    const port = await freePort();
    const upstreams = { blue: fx.blue.url, green: fx.green.url };
    const first = await ensureRouter({ paths: fx.paths, port, upstreams, progress: silentProgress });
    expect(first.started).to.equal(true);
    expect(first.record.url).to.equal(`http://127.0.0.1:${port}`);
    expect((await first.client.state()).weights).to.deep.equal({ blue: 0, green: 0 });
    await first.client.setWeights({ blue: 0, green: 100 });
    expect(await get(`${first.record.url}/score`)).to.deep.equal({ body: "green", upstream: "green" });

    const again = await ensureRouter({ paths: fx.paths, port, upstreams, progress: silentProgress });
    expect(again.started).to.equal(false);
    expect(again.record.pid).to.equal(first.record.pid);

    const persisted = JSON.parse(await readFile(fx.paths.routerStateFile, "utf8")) as { weights: Record<string, number> };
    expect(persisted.weights).to.deep.equal({ blue: 0, green: 100 });
    expect(await stopRouter(fx.paths)).to.equal(`stopped prod's router (pid ${first.record.pid}, port ${port})`);
    expect(routerRunning(await readRouterRecord(fx.paths))).to.equal(false);
    expect(await stopRouter(fx.paths)).to.equal(undefined);

    const restarted = await ensureRouter({ paths: fx.paths, port, upstreams, progress: silentProgress });
    expect(restarted.started).to.equal(true);
    expect((await restarted.client.state()).weights).to.deep.equal({ blue: 0, green: 100 });
  });

  it("refuses a port another process holds, naming local.ports.prod", async () => {
    await stopRouter(fx.paths);
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const err = await ensureRouter({ paths: fx.paths, port, upstreams: { blue: fx.blue.url, green: fx.green.url }, progress: silentProgress }).catch(
        (e: Error) => e,
      );
      expect((err as Error).message).to.equal(`port ${port} (prod) is in use by another process; stop it or set local.ports.prod in mlops.yaml`);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });
});
