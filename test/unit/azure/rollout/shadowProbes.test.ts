/**
 * The Azure shadow phase's paired probes (driver/targets/azure/shadowProbes.ts) against a loopback scoring server
 * that plays the endpoint: the share of probes copied to the new deployment, the deployment header on every call,
 * Azure's JSON-encoded string bodies compared as JSON, and an answer from another deployment than the one asked
 * (the header not honoured) recorded as no answer.
 */
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { PairedShadowProbes } from "../../../../driver/targets/azure/shadowProbes.js";

const SMOKE = { payload: { data: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] }, prediction_range: [12.5, 519] as [number, number] };
const auth = { headers: { authorization: "Bearer key-123" }, redact: (t: string) => t.replaceAll("key-123", "***") };

async function endpoint(answer: (deployment: string | undefined) => { status: number; body: string; servedBy?: string }) {
  const seen: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    const d = req.headers["azureml-model-deployment"] as string | undefined;
    seen.push(d);
    req.resume();
    req.on("end", () => {
      const a = answer(d);
      res.writeHead(a.status, { "content-type": "application/json", "azureml-model-deployment": a.servedBy ?? d ?? "blue" });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("azure shadow phase: paired probes (loopback endpoint)", () => {
  it("copies exactly `percent` of the probes to the new deployment after the live answer, each call naming its deployment", async () => {
    // Azure ML may send score.py's JSON as a JSON-encoded string: both sides are compared as the JSON inside
    const ep = await endpoint((d) => ({ status: 200, body: JSON.stringify(JSON.stringify({ predictions: [d === "green" ? 151 : 150] })) }));
    try {
      const p = new PairedShadowProbes({ scoringUri: ep.url, auth, smoke: SMOKE, from: "blue", to: "green", rps: 40 });
      await p.start(25);
      await p.observe(0.5); // 20 probes
      const { pairs, dropped } = await p.pairs();
      expect(dropped).to.equal(0);
      expect(pairs).to.have.length(5);
      expect(ep.seen.filter((d) => d === "blue")).to.have.length(20);
      expect(ep.seen.filter((d) => d === "green")).to.have.length(5);
      expect(ep.seen.every((d) => d !== undefined)).to.equal(true);
      expect(pairs[0]!.live).to.deep.include({ upstream: "blue", status: 200, body: '{"predictions":[150]}' });
      expect(pairs[0]!.shadow).to.deep.include({ upstream: "green", status: 200, body: '{"predictions":[151]}' });
      await p.stop();
      await p.observe(0.25);
      expect((await p.pairs()).pairs, "no copy after stop").to.have.length(5);
    } finally {
      await ep.close();
    }
  });

  it("an answer from another deployment than the one asked is no answer; when the serving deployment does not answer, nothing is copied", async () => {
    const ep = await endpoint(() => ({ status: 200, body: '{"predictions":[150]}', servedBy: "blue" }));
    try {
      const p = new PairedShadowProbes({ scoringUri: ep.url, auth, smoke: SMOKE, from: "blue", to: "green", rps: 20 });
      await p.start(100);
      await p.observe(0.2);
      const { pairs } = await p.pairs();
      expect(pairs.length).to.be.greaterThan(0);
      for (const x of pairs) expect(x.shadow).to.deep.include({ status: 0, error: "answered by blue" });
    } finally {
      await ep.close();
    }
    const dead = new PairedShadowProbes({ scoringUri: "http://127.0.0.1:1/score", auth, smoke: SMOKE, from: "blue", to: "green", rps: 20 });
    await dead.start(100);
    await dead.observe(0.1);
    expect((await dead.pairs()).pairs, "no live answer: nothing to compare").to.deep.equal([]);
  });
});
