/** A loopback HTTP server answering every request after a fixed delay: a stand-in endpoint with known latency. */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FixedDelayServer {
  url: string;
  requests: () => number;
  close: () => Promise<void>;
}

export async function startFixedDelayServer(
  delayMs: number,
  opts: { status?: (n: number) => number; closeEachResponse?: boolean } = {},
): Promise<FixedDelayServer> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const k = ++n;
      setTimeout(() => {
        res.writeHead(opts.status?.(k) ?? 200, { "content-type": "application/json", ...(opts.closeEachResponse ? { connection: "close" } : {}) });
        res.end("[152.1, 201.3]");
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => n,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
