/**
 * The router's shadow mirror (driver/router/shadowMirror.ts) on loopback: the share copied, the copies' answers
 * recorded and never returned, and a slow, dead or overloaded shadow upstream that never delays or fails a user
 * request. The upstreams are real HTTP servers; "blue" serves live, "green" (weight 0) receives the copies.
 */
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { RouterClient } from "../../../driver/router/routerClient.js";
import { startWeightedRouter, type RunningRouter } from "../../../driver/router/weightedRouter.js";

const TOKEN = "shadow-test-admin-token-0123456789";

/** An upstream answering {"predictions": [<value>]} (or `status`) after `delayMs`; counts the copies it got. */
async function scorer(o: {
  value: number;
  status?: number;
  delayMs?: number;
}): Promise<{ url: string; hits: () => number; shadowHits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  let shadowHits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    if (req.headers["x-mlops-shadow"] === "1") shadowHits += 1;
    req.resume();
    req.on("end", () =>
      setTimeout(() => {
        res.writeHead(o.status ?? 200, { "content-type": "application/json" });
        res.end(JSON.stringify({ predictions: [o.value] }));
      }, o.delayMs ?? 0),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    shadowHits: () => shadowHits,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function score(router: RunningRouter): Promise<{ status: number; upstream: string | null; body: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${router.url}/score`, { method: "POST", body: '{"data":[[1,2]]}', headers: { "content-type": "application/json" } });
  const body = await res.text();
  return { status: res.status, upstream: res.headers.get("x-mlops-upstream"), body, ms: performance.now() - t0 };
}

const settle = async (client: RouterClient): Promise<void> => {
  for (let i = 0; i < 200 && (await client.shadow(0)).inFlight > 0; i++) await new Promise((r) => setTimeout(r, 25));
};

describe("router shadow mirror (loopback upstreams)", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });
  const log: string[] = [];

  async function setup(green: { value: number; status?: number; delayMs?: number } | "dead", weights = { blue: 100, green: 0 }) {
    const blue = await scorer({ value: 150 });
    const g = green === "dead" ? undefined : await scorer(green);
    log.length = 0;
    const router = await startWeightedRouter({
      port: 0,
      state: { upstreams: { blue: blue.url, green: g?.url ?? "http://127.0.0.1:1" }, weights },
      admin: { token: TOKEN, log: (l) => log.push(l) },
    });
    closers.push(blue.close, ...(g ? [g.close] : []), router.close);
    return { router, blue, green: g, client: new RouterClient(router.url, { url: router.adminUrl!, token: TOKEN }) };
  }

  it("copies exactly `percent` of the live requests to the idle upstream and returns only the live answers", async () => {
    const { router, client, blue, green } = await setup({ value: 151 });
    const started = await client.setShadow({ to: "green", percent: 30 }, "test");
    expect(started.config).to.deep.include({ to: "green", percent: 30 });
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await score(router));
    await settle(client);
    expect(answers.every((a) => a.status === 200 && a.upstream === "blue" && a.body === '{"predictions":[150]}')).to.equal(true);
    expect(blue.hits()).to.equal(20);
    expect(green!.shadowHits(), "30% of 20").to.equal(6);
    expect(green!.hits()).to.equal(6);
    const s = await client.shadow(started.lastSeq);
    expect(s).to.deep.include({ sent: 6, answered: 6, failed: 0, dropped: 0, missed: 0 });
    expect(s.pairs).to.have.length(6);
    for (const p of s.pairs) {
      expect(p.live).to.deep.include({ upstream: "blue", status: 200, body: '{"predictions":[150]}' });
      expect(p.shadow).to.deep.include({ upstream: "green", status: 200, body: '{"predictions":[151]}' });
      expect(p.live.ms).to.be.a("number");
      expect(p.shadow.ms).to.be.a("number");
    }
    // the live counters count user traffic only: the copies are not green's requests
    expect(router.stats().counters.green!.requests).to.equal(0);
    expect(log.at(-1)).to.match(/router admin: shadow off -> 30% to green by .*; reason: test$/);
  });

  it("stops copying at percent 0 and reads only the pairs after a sequence number", async () => {
    const { router, client, green } = await setup({ value: 150 });
    await client.setShadow({ to: "green", percent: 100 });
    for (let i = 0; i < 3; i++) await score(router);
    await settle(client);
    const mid = (await client.shadow(0)).lastSeq;
    expect(mid).to.equal(3);
    await score(router);
    await settle(client);
    expect((await client.shadow(mid)).pairs.map((p) => p.seq)).to.deep.equal([4]);
    const off = await client.setShadow({ percent: 0 });
    expect(off.config).to.equal(null);
    for (let i = 0; i < 3; i++) await score(router);
    await settle(client);
    expect(green!.hits()).to.equal(4);
  });

  it("a slow shadow upstream never delays a user request; copies beyond maxInFlight are dropped, not queued", async () => {
    const { router, client, green } = await setup({ value: 150, delayMs: 1500 });
    await client.setShadow({ to: "green", percent: 100, maxInFlight: 2 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => score(router)));
    // each user request is answered by blue at once; the copies take 1.5 s each
    for (const a of answers) expect(a.ms, "user latency with a 1.5 s shadow").to.be.lessThan(750);
    await settle(client);
    const s = await client.shadow(0);
    expect(s.sent).to.equal(2);
    expect(s.dropped).to.equal(4);
    expect(green!.shadowHits()).to.equal(2);
    expect(s.pairs.map((p) => p.shadow.status)).to.deep.equal([200, 200]);
  });

  it("a dead shadow upstream, or one that times out, is recorded as no answer; the user still gets 200", async () => {
    const dead = await setup("dead");
    await dead.client.setShadow({ to: "green", percent: 100 });
    const a = await score(dead.router);
    expect(a).to.deep.include({ status: 200, upstream: "blue" });
    await settle(dead.client);
    const p = (await dead.client.shadow(0)).pairs[0]!;
    expect(p.shadow.status).to.equal(0);
    expect(p.shadow.error).to.match(/ECONNREFUSED/);

    const slow = await setup({ value: 150, delayMs: 2000 });
    await slow.client.setShadow({ to: "green", percent: 100, timeoutMs: 100 });
    expect((await score(slow.router)).status).to.equal(200);
    await settle(slow.client);
    const q = (await slow.client.shadow(0)).pairs[0]!;
    expect(q.shadow).to.deep.include({ status: 0, error: "timed out after 100 ms" });
  });

  it("refuses to mirror to an upstream that takes live traffic, an unknown one or a bad percentage (400), and the mirror stays off", async () => {
    const { client } = await setup({ value: 150 }, { blue: 90, green: 10 });
    const refused = async (body: Parameters<RouterClient["setShadow"]>[0]) =>
      client.setShadow(body).then(
        () => "accepted",
        (e: Error) => e.message,
      );
    expect(await refused({ to: "green", percent: 50 })).to.match(/400 green takes 10% of the live traffic; mirror only to an upstream with weight 0/);
    expect(await refused({ to: "red", percent: 50 })).to.match(/400 shadow 'to' must name an upstream \(blue, green\)/);
    expect(await refused({ to: "blue", percent: 101 })).to.match(/400 shadow percent must be an integer from 0 to 100/);
    expect((await client.shadow(0)).config).to.equal(null);
  });

  it("the shadow admin paths need the admin token like the others", async () => {
    const { router } = await setup({ value: 150 });
    const res = await fetch(`${router.adminUrl}/-/router/shadow`, { method: "PUT", body: '{"to":"green","percent":50}' });
    expect(res.status).to.equal(401);
    expect((await fetch(`${router.adminUrl}/-/router/shadow?after=0`)).status).to.equal(401);
    expect((await fetch(`${router.url}/-/router/shadow`)).headers.get("x-mlops-upstream"), "the scoring port has no admin paths").to.equal("blue");
  });
});
