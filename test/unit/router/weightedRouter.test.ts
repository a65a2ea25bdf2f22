import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { RouterClient } from "../../../driver/router/routerClient.js";
import { SmoothWeightedPicker } from "../../../driver/router/smoothWeightedPicker.js";
import { errorRateBetween } from "../../../driver/router/routerTypes.js";
import { startWeightedRouter, type RunningRouter } from "../../../driver/router/weightedRouter.js";

/** A loopback upstream answering every request with `status` and its own name. */
async function upstream(name: string, status = 200): Promise<{ url: string; close: () => Promise<void>; hits: () => number }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    req.resume();
    req.on("end", () => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ from: name, path: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function post(url: string): Promise<{ status: number; upstream: string | null }> {
  const res = await fetch(`${url}/score`, { method: "POST", body: '{"data":[[1]]}', headers: { "content-type": "application/json" } });
  await res.text();
  return { status: res.status, upstream: res.headers.get("x-mlops-upstream") };
}

describe("smooth weighted round-robin picker", () => {
  it("sends exactly 1 in 10 to a 10% upstream, never two in a row", () => {
    const p = new SmoothWeightedPicker({ blue: 90, green: 10 });
    const picks = Array.from({ length: 100 }, () => p.pick());
    expect(picks.filter((x) => x === "green")).to.have.length(10);
    for (let i = 0; i < 10; i++)
      expect(
        picks.slice(i * 10, i * 10 + 10).filter((x) => x === "green"),
        `window ${i}`,
      ).to.have.length(1);
  });

  it("splits 50/50 alternately and never picks a zero weight", () => {
    const p = new SmoothWeightedPicker({ blue: 50, green: 50 });
    expect(Array.from({ length: 4 }, () => p.pick())).to.deep.equal(["blue", "green", "blue", "green"]);
    p.set({ blue: 0, green: 100 });
    expect(new Set(Array.from({ length: 20 }, () => p.pick()))).to.deep.equal(new Set(["green"]));
    p.set({ blue: 0, green: 0 });
    expect(p.pick()).to.equal(undefined);
  });

  it("rejects negative or fractional weights", () => {
    expect(() => new SmoothWeightedPicker({ blue: -1 })).to.throw(RangeError, /blue/);
    expect(() => new SmoothWeightedPicker({ blue: 0.5 })).to.throw(RangeError);
  });
});

describe("weighted router (loopback, two upstreams)", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });

  const TOKEN = "test-admin-token-0123456789";
  const adminLog: string[] = [];

  async function setup(
    greenStatus = 200,
    weights = { blue: 90, green: 10 },
  ): Promise<{ router: RunningRouter; client: RouterClient; blue: Awaited<ReturnType<typeof upstream>>; green: Awaited<ReturnType<typeof upstream>> }> {
    const blue = await upstream("blue");
    const green = await upstream("green", greenStatus);
    adminLog.length = 0;
    const router = await startWeightedRouter({
      port: 0,
      state: { upstreams: { blue: blue.url, green: green.url }, weights },
      admin: { token: TOKEN, log: (l) => adminLog.push(l) },
    });
    closers.push(blue.close, green.close, router.close);
    return { router, client: new RouterClient(router.url, { url: router.adminUrl!, token: TOKEN }), blue, green };
  }

  it("forwards by weight: 90/10 over 50 requests gives exactly 5 to green, tagged in a response header", async () => {
    const { router, blue, green } = await setup();
    const seen = [];
    for (let i = 0; i < 50; i++) seen.push(await post(router.url));
    expect(seen.every((s) => s.status === 200)).to.equal(true);
    expect(seen.filter((s) => s.upstream === "green")).to.have.length(5);
    expect(green.hits()).to.equal(5);
    expect(blue.hits()).to.equal(45);
    expect(router.stats().counters.green).to.deep.include({ requests: 5, ok: 5, serverErrors: 0, failed: 0 });
  });

  it("changes weights live through the admin API and reports state", async () => {
    const { router, client } = await setup();
    const s = await client.setWeights({ blue: 0, green: 100 });
    expect(s.weights).to.deep.equal({ blue: 0, green: 100 });
    for (let i = 0; i < 5; i++) expect((await post(router.url)).upstream).to.equal("green");
    expect((await client.state()).counters.green!.requests).to.equal(5);
  });

  it("refuses unknown upstreams and bad weights with 400 and keeps the old split", async () => {
    const { client } = await setup();
    let err: Error | undefined;
    await client.setWeights({ red: 10 }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/400 unknown upstream 'red'/);
    await client.setWeights({ blue: -5 }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/integer from 0 to 100/);
    expect((await client.state()).weights).to.deep.equal({ blue: 90, green: 10 });
  });

  it("counts 5xx and unreachable upstreams as errors of that upstream only", async () => {
    const { router } = await setup(500, { blue: 50, green: 50 });
    const before = router.stats().counters;
    for (let i = 0; i < 10; i++) await post(router.url);
    const after = router.stats().counters;
    expect(errorRateBetween(before.green, after.green!)).to.deep.equal({ requests: 5, errors: 5, rate: 1 });
    expect(errorRateBetween(before.blue, after.blue!)).to.deep.equal({ requests: 5, errors: 0, rate: 0 });
  });

  it("cuts the client's connection at once when the upstream dies in the middle of its answer", async () => {
    // an upstream that promises 1000 bytes, sends 10 and dies (a worker killed mid-answer)
    const dying = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
        res.write('{"predicti');
        setTimeout(() => res.socket?.destroy(), 50);
      });
    });
    await new Promise<void>((r) => dying.listen(0, "127.0.0.1", r));
    const port = (dying.address() as AddressInfo).port;
    const router = await startWeightedRouter({
      port: 0,
      state: { upstreams: { blue: `http://127.0.0.1:${port}` }, weights: { blue: 100 } },
      upstreamTimeoutMs: 120_000, // before: the client waited for this (and this test for mocha's timeout)
    });
    closers.push(router.close, () => {
      dying.closeAllConnections();
      return new Promise((r) => dying.close(() => r()));
    });
    const res = await fetch(`${router.url}/score`, { method: "POST", body: '{"data":[[1]]}' });
    expect(res.status).to.equal(200);
    const error = await res.text().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error, "an answer cut short must not arrive as a complete one").to.be.instanceOf(Error);
    expect(router.stats().counters.blue).to.deep.include({ requests: 1, ok: 1, failed: 1 });
  });

  it("answers 502 when the chosen upstream is down, and 503 when no upstream has weight", async () => {
    const blue = await upstream("blue");
    const router = await startWeightedRouter({
      port: 0,
      state: { upstreams: { blue: blue.url, green: "http://127.0.0.1:1" }, weights: { blue: 0, green: 100 } },
    });
    closers.push(blue.close, router.close);
    expect((await post(router.url)).status).to.equal(502);
    expect(router.stats().counters.green!.failed).to.equal(1);
    router.setWeights({ blue: 0, green: 0 });
    expect((await post(router.url)).status).to.equal(503);
  });
});
