import { expect } from "chai";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { startWeightedRouter, type RunningRouter } from "../../../driver/router/weightedRouter.js";

/** A loopback upstream answering every request 200 with its name; counts requests and body bytes it saw. */
async function upstream(name: string): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    req.resume();
    req.on("end", () => res.end(JSON.stringify({ from: name })));
    req.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const TOKEN = "s3cr3t-admin-token-for-the-test";

describe("router doors: the admin API is off the scoring port and guarded", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });
  let log: string[];

  async function setup(maxRequestBytes?: number): Promise<{ router: RunningRouter; blue: Awaited<ReturnType<typeof upstream>> }> {
    const blue = await upstream("blue");
    const green = await upstream("green");
    log = [];
    const router = await startWeightedRouter({
      port: 0,
      state: { upstreams: { blue: blue.url, green: green.url }, weights: { blue: 90, green: 10 } },
      admin: { token: TOKEN, log: (l) => log.push(l) },
      ...(maxRequestBytes ? { maxRequestBytes } : {}),
    });
    closers.push(blue.close, green.close, router.close);
    return { router, blue };
  }

  const admin = async (router: RunningRouter, method: string, path: string, o: { token?: string; body?: string; actor?: string } = {}) => {
    const res = await fetch(`${router.adminUrl ?? "http://127.0.0.1:1"}/-/router${path}`, {
      method,
      headers: {
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...(o.actor ? { "x-mlops-actor": o.actor } : {}),
        "content-type": "application/json",
      },
      ...(o.body !== undefined ? { body: o.body } : {}),
    });
    return { status: res.status, json: (await res.json()) as { error?: string; weights?: Record<string, number> } };
  };

  it("a weights PUT on the scoring port changes nothing, and GET state there shows no router state", async () => {
    const { router } = await setup();
    const put = await fetch(`${router.url}/-/router/weights`, { method: "PUT", body: JSON.stringify({ blue: 0, green: 100 }) });
    await put.text();
    expect(router.stats().weights).to.deep.equal({ blue: 90, green: 10 });
    const state = await (await fetch(`${router.url}/-/router/state`)).text();
    expect(state).not.to.contain("counters");
    expect(router.adminUrl, "admin listener").to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(router.adminUrl).not.to.equal(router.url);
  });

  it("the admin listener answers 401 without the token or with a wrong one, 200 with it", async () => {
    const { router } = await setup();
    expect((await admin(router, "GET", "/state")).status).to.equal(401);
    expect((await admin(router, "GET", "/state", { token: "wrong" })).status).to.equal(401);
    const noToken = await admin(router, "PUT", "/weights", { body: '{"blue":0,"green":100}' });
    expect(noToken.status).to.equal(401);
    expect(router.stats().weights).to.deep.equal({ blue: 90, green: 10 });
    expect((await admin(router, "GET", "/state", { token: TOKEN })).status).to.equal(200);
  });

  const noTraffic: Array<[string, string, RegExp]> = [
    ["all zero", '{"blue":0,"green":0}', /send no traffic anywhere/],
    ["an empty object (every upstream 0)", "{}", /send no traffic anywhere/],
    ["only the serving side set to 0", '{"blue":0}', /send no traffic anywhere/],
    ["an unknown slot", '{"red":100}', /unknown upstream 'red'; known: blue, green/],
    ["a negative weight", '{"blue":-10,"green":110}', /weight of 'blue' must be an integer from 0 to 100, not -10/],
    ["NaN (not JSON)", '{"blue":NaN,"green":100}', /not valid JSON/],
    ["null", '{"blue":null,"green":100}', /weight of 'blue' must be an integer from 0 to 100, not null/],
    ["a string", '{"blue":"50","green":50}', /weight of 'blue' must be an integer/],
    ["a fraction", '{"blue":0.5,"green":99.5}', /must be an integer/],
    ["a list", "[100, 0]", /must be an object/],
  ];
  for (const [what, body, message] of noTraffic) {
    it(`refuses weights with ${what} with 400 and a clear message, and keeps the split`, async () => {
      const { router } = await setup();
      const r = await admin(router, "PUT", "/weights", { token: TOKEN, body });
      expect(r.status).to.equal(400);
      expect(r.json.error).to.match(message);
      expect(router.stats().weights).to.deep.equal({ blue: 90, green: 10 });
    });
  }

  it("logs every change (when, who, from where, what) and every refusal, never the token", async () => {
    const { router } = await setup();
    const ok = await admin(router, "PUT", "/weights", { token: TOKEN, body: '{"blue":50,"green":50}', actor: "alice (mlops pid 42)" });
    expect(ok.status).to.equal(200);
    await admin(router, "PUT", "/weights", { token: "guess", body: '{"blue":0,"green":100}' });
    await admin(router, "PUT", "/weights", { token: TOKEN, body: '{"blue":0,"green":0}', actor: "bob" });
    expect(log).to.have.length(3);
    expect(log[0]).to.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z router admin: weights blue 90 -> 50, green 10 -> 50 by alice \(mlops pid 42\) from 127\.0\.0\.1:\d+/);
    expect(log[1]).to.match(/refused PUT \/-\/router\/weights by an unnamed caller from 127\.0\.0\.1:\d+: 401/);
    expect(log[2]).to.match(/refused PUT \/-\/router\/weights by bob .*: 400 .*no traffic anywhere/);
    for (const line of log) expect(line).not.to.contain(TOKEN).and.not.to.contain("guess");
  });
});

describe("router doors: oversized bodies are refused with 413 before they cost the upstream anything", () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });

  async function setup(): Promise<{ router: RunningRouter; blue: Awaited<ReturnType<typeof upstream>>; green: Awaited<ReturnType<typeof upstream>> }> {
    const blue = await upstream("blue");
    const green = await upstream("green");
    const router = await startWeightedRouter({
      port: 0,
      state: { upstreams: { blue: blue.url, green: green.url }, weights: { blue: 50, green: 50 } },
      maxRequestBytes: 2048,
    });
    closers.push(blue.close, green.close, router.close);
    return { router, blue, green };
  }

  it("a body whose Content-Length is over the limit gets 413 naming the setting; no upstream sees it, no error is counted", async () => {
    const { router, blue, green } = await setup();
    const res = await fetch(`${router.url}/score`, { method: "POST", body: "x".repeat(4096), headers: { "content-type": "application/json" } });
    expect(res.status).to.equal(413);
    expect(((await res.json()) as { error: string }).error).to.match(/larger than 2048 bytes \(scoring\.maxRequestBytes in mlops\.yaml\)/);
    expect(blue.hits() + green.hits()).to.equal(0);
    const c = router.stats().counters;
    expect(c.blue!.serverErrors + c.green!.serverErrors + c.blue!.failed + c.green!.failed).to.equal(0);
    const small = await fetch(`${router.url}/score`, { method: "POST", body: "x".repeat(2048) });
    await small.text();
    expect(small.status).to.equal(200);
  });

  it("a chunked body that grows past the limit gets 413; no upstream sees it, nothing is counted against one", async () => {
    const { router, blue, green } = await setup();
    const chunk = new TextEncoder().encode("y".repeat(1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        sent += 1;
        if (sent > 64) ctl.close();
        else ctl.enqueue(chunk);
      },
    });
    const res = await fetch(`${router.url}/score`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).to.equal(413);
    await res.text();
    const c = router.stats().counters;
    expect(c.blue!.requests + c.green!.requests).to.equal(0);
    expect(blue.hits() + green.hits()).to.equal(0);
  });

  it("a client that sends half its body and hangs up never reaches an upstream and counts as no upstream's error", async () => {
    const { router, blue, green } = await setup();
    const { port } = new URL(router.url);
    const sock = net.connect(Number(port), "127.0.0.1");
    await new Promise<void>((r) => sock.once("connect", () => r()));
    sock.write('POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"data": [[1,');
    await new Promise((r) => setTimeout(r, 200));
    expect(blue.hits() + green.hits(), "nothing forwarded while the body is incomplete").to.equal(0);
    sock.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const c = router.stats().counters;
    expect(c.blue!.requests + c.green!.requests + c.blue!.failed + c.green!.failed).to.equal(0);
    const ok = await fetch(`${router.url}/score`, { method: "POST", body: '{"data":[[1]]}' });
    await ok.text();
    expect(ok.status).to.equal(200);
  });
});
