import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startWeightedRouter } from "../../../driver/router/weightedRouter.js";

/** A loopback upstream that answers with the request headers it saw, closing every connection as gunicorn's sync worker does. */
async function echoUpstream(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const body = JSON.stringify({ rawHeaders: req.rawHeaders });
      res.writeHead(200, { "content-type": "application/json", connection: "close", "x-model": "m1", "set-cookie": ["a=1", "b=2"] });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => (server.closeAllConnections(), new Promise((r) => server.close(() => r()))),
  };
}

/** One request on `agent` (keep-alive): status, headers, body, and the local port of the client's connection. */
function request(
  url: string,
  agent: http.Agent,
  headers: Record<string, string>,
): Promise<{ headers: http.IncomingHttpHeaders; body: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/score`, { method: "POST", agent, headers }, (res) => {
      const localPort = res.socket.localPort!;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ headers: res.headers, body, localPort }));
    });
    req.on("error", reject);
    req.end('{"data":[[1]]}');
  });
}

describe("weighted router headers (loopback)", () => {
  it("forwards the request's headers with the upstream's Host and no hop-by-hop ones, and the answer's headers back", async () => {
    const up = await echoUpstream();
    const router = await startWeightedRouter({ port: 0, state: { upstreams: { blue: up.url }, weights: { blue: 100 } } });
    const agent = new http.Agent({ keepAlive: true });
    try {
      const r = await request(router.url, agent, {
        "content-type": "application/json",
        "x-request-id": "r-1",
        "keep-alive": "timeout=9",
        "proxy-connection": "keep-alive",
      });
      const seen = (JSON.parse(r.body) as { rawHeaders: string[] }).rawHeaders;
      const names = seen.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      const value = (n: string) => seen[names.indexOf(n) * 2 + 1];
      expect(value("x-request-id")).to.equal("r-1");
      expect(value("content-type")).to.equal("application/json");
      expect(value("host")).to.equal(new URL(up.url).host);
      expect(value("content-length")).to.equal("14");
      expect(names.filter((n) => n === "host")).to.have.length(1);
      expect(names).to.not.include.members(["keep-alive", "proxy-connection", "transfer-encoding"]);
      expect(r.headers).to.include({ "content-type": "application/json", "x-model": "m1", "x-mlops-upstream": "blue" });
      expect(r.headers["set-cookie"]).to.deep.equal(["a=1", "b=2"]);
    } finally {
      agent.destroy();
      await router.close();
      await up.close();
    }
  });

  it("keeps the client's connection open when the upstream closes its own after every answer (gunicorn)", async () => {
    const up = await echoUpstream();
    const router = await startWeightedRouter({ port: 0, state: { upstreams: { blue: up.url }, weights: { blue: 100 } } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(router.url, agent, { "content-type": "application/json" });
      const second = await request(router.url, agent, { "content-type": "application/json" });
      expect(first.headers.connection).to.equal("keep-alive");
      expect(second.localPort).to.equal(first.localPort);
    } finally {
      agent.destroy();
      await router.close();
      await up.close();
    }
  });
});
