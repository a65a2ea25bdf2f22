/**
 * The synthetic scoring traffic of a rollout step, against a loopback server that records when each probe
 * arrives. Timing is only ever checked from below (a probe may not arrive before its slot; the call may not
 * return before `seconds`): a loaded machine makes things late, never early. Tolerance: 5 ms, for Node's
 * millisecond timer clock, which can fire a timer up to 1 ms before performance.now() says it is due.
 */
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { sendProbeTraffic } from "../../../driver/rollout/probeTraffic.js";

const SLACK_MS = 5;

interface Seen {
  at: number;
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function recorder(opts: { status?: (n: number) => number; hang?: boolean } = {}) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ at, method: req.method ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      if (opts.hang) return;
      res.writeHead(opts.status?.(seen.length) ?? 200, { "content-type": "application/json" });
      res.end("[1]");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("probe traffic of a rollout step (loopback)", () => {
  it("sends ceil(rps x seconds) probes, each no earlier than its 1/rps slot, and returns no earlier than `seconds`", async () => {
    const s = await recorder();
    try {
      const t0 = performance.now();
      const out = await sendProbeTraffic({ url: s.url, body: "{}", rps: 2, seconds: 1.2 });
      const elapsed = performance.now() - t0;
      expect(out).to.deep.equal({ sent: 3, outcomes: { 200: 3 } });
      expect(s.seen).to.have.length(3);
      s.seen.forEach((x, i) => expect(x.at - t0, `probe ${i} arrived ${(x.at - t0).toFixed(1)} ms after the start`).to.be.at.least(i * 500 - SLACK_MS));
      expect(elapsed, "returns after the whole observation, not after the last answer").to.be.at.least(1200 - SLACK_MS);
    } finally {
      await s.close();
    }
  });

  it("each probe is a JSON POST of the body with the caller's headers; answers are counted per status", async () => {
    const s = await recorder({ status: (n) => (n === 2 ? 503 : 200) });
    try {
      const out = await sendProbeTraffic({ url: s.url, body: '{"input_data":[[1,2]]}', headers: { authorization: "Bearer t" }, rps: 50, seconds: 0.06 });
      expect(out).to.deep.equal({ sent: 3, outcomes: { 200: 2, 503: 1 } });
      for (const x of s.seen) {
        expect(x.method).to.equal("POST");
        expect(x.body).to.equal('{"input_data":[[1,2]]}');
        expect(x.headers["content-type"]).to.equal("application/json");
        expect(x.headers.authorization).to.equal("Bearer t");
      }
      await sendProbeTraffic({ url: s.url, body: "{}", rps: 50, seconds: 0.02 });
      expect(s.seen.at(-1)!.headers["content-type"], "JSON without caller headers too").to.equal("application/json");
    } finally {
      await s.close();
    }
  });

  it("a probe that gets no answer within timeoutMs, or no connection, counts as an error", async () => {
    const s = await recorder({ hang: true });
    try {
      const out = await sendProbeTraffic({ url: s.url, body: "{}", rps: 20, seconds: 0.1, timeoutMs: 100 });
      expect(out).to.deep.equal({ sent: 2, outcomes: { error: 2 } });
    } finally {
      await s.close();
    }
    const refused = await sendProbeTraffic({ url: s.url, body: "{}", rps: 20, seconds: 0.1 });
    expect(refused).to.deep.equal({ sent: 2, outcomes: { error: 2 } });
  });

  it("a rate or a duration that is not positive sends nothing and reports 0 sent (never NaN), and still waits out a positive duration", async () => {
    const s = await recorder();
    try {
      for (const [rps, seconds] of [
        [-1, -1],
        [5, 0],
        [0, -1],
        [Infinity, 0],
        [-Infinity, 0.01],
      ] as const) {
        expect(await sendProbeTraffic({ url: s.url, body: "{}", rps, seconds }), `rps ${rps}, seconds ${seconds}`).to.deep.equal({ sent: 0, outcomes: {} });
      }
      const t0 = performance.now();
      expect(await sendProbeTraffic({ url: s.url, body: "{}", rps: 0, seconds: 0.3 })).to.deep.equal({ sent: 0, outcomes: {} });
      expect(performance.now() - t0).to.be.at.least(300 - SLACK_MS);
      expect(s.seen).to.have.length(0);
    } finally {
      await s.close();
    }
  });
});
