import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ensureRouter, readRouterRecord, stopRouter } from "../../../driver/targets/local/routerProcess.js";
import { adminFileFor, readAdminFile, writeAdminFile } from "../../../driver/router/routerAdminFile.js";
import { silentProgress } from "../../support/fakeTarget.js";
import { routerFixture } from "../../support/routerFixture.js";
import { freePort } from "../../support/freePort.js";

describe("PROD's router process: the admin API behind a token in a 0600 file", function () {
  this.timeout(60_000);
  const fx = routerFixture("mlops-router-door-");

  it("writes the admin URL and token to a 0600 file; the scoring port has no admin API; no token is 401; the token is in no log, record, command line or environment", async () => {
    const port = await freePort();
    const r = await ensureRouter({ paths: fx.paths, port, upstreams: { blue: fx.blue.url, green: fx.green.url }, progress: silentProgress });
    const adminFile = adminFileFor(fx.paths.routerStateFile);
    expect((await stat(adminFile)).mode & 0o777).to.equal(0o600);
    const access = await readAdminFile(adminFile);
    expect(access.token).to.have.length.greaterThan(40);
    expect(access.pid).to.equal(r.record.pid);
    expect(access.url)
      .to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
      .and.not.equal(r.record.url);

    const onScoringPort = await fetch(`${r.record.url}/-/router/state`);
    expect(await onScoringPort.text()).not.to.contain("counters");
    const noToken = await fetch(`${access.url}/-/router/weights`, { method: "PUT", body: '{"blue":100,"green":0}' });
    expect(noToken.status).to.equal(401);
    await noToken.text();
    expect((await r.client.state()).weights).to.deep.equal({ blue: 0, green: 0 });

    await r.client.setWeights({ blue: 100, green: 0 }, "test flip");
    const rec = await readRouterRecord(fx.paths);
    const log = await readFile(rec!.logFile, "utf8");
    expect(log).to.match(/router admin: weights blue 0 -> 100, green 0 -> 0 by \S+ \(mlops pid \d+\) from 127\.0\.0\.1:\d+; reason: test flip/);
    expect(log).to.match(/refused PUT \/-\/router\/weights .*: 401/);
    const written = [rec!.logFile, fx.paths.routerService, fx.paths.routerStateFile];
    for (const f of written) expect(await readFile(f, "utf8"), f).not.to.contain(access.token);
    expect(await readFile(`/proc/${r.record.pid}/cmdline`, "utf8")).not.to.contain(access.token);
    expect(await readFile(`/proc/${r.record.pid}/environ`, "utf8")).not.to.contain(access.token);
    // nothing else under the state dir holds it (the admin file is the one place)
    const holders: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if ((await readFile(p, "utf8")).includes(access.token)) holders.push(p);
      }
    };
    await walk(fx.paths.stateDir);
    expect(holders).to.deep.equal([adminFile]);
  });

  it("a restarted router makes a new token; the client of the old one reads the new file and keeps working", async () => {
    const port = (await readRouterRecord(fx.paths))!.port;
    const first = await ensureRouter({ paths: fx.paths, port, upstreams: { blue: fx.blue.url, green: fx.green.url }, progress: silentProgress });
    const before = (await readAdminFile(adminFileFor(fx.paths.routerStateFile))).token;
    await stopRouter(fx.paths);
    const again = await ensureRouter({ paths: fx.paths, port, upstreams: { blue: fx.blue.url, green: fx.green.url }, progress: silentProgress });
    expect(again.started).to.equal(true);
    expect((await readAdminFile(adminFileFor(fx.paths.routerStateFile))).token).not.to.equal(before);
    expect((await first.client.state()).weights).to.deep.equal({ blue: 100, green: 0 });
  });

  it("a changed scoring.maxRequestBytes restarts the router with the new limit (413 above it), keeping the split", async () => {
    const port = (await readRouterRecord(fx.paths))!.port;
    const before = await ensureRouter({ paths: fx.paths, port, upstreams: { blue: fx.blue.url, green: fx.green.url }, progress: silentProgress });
    const lines: string[] = [];
    const progress = { ...silentProgress, info: (l: string) => lines.push(l) };
    const r = await ensureRouter({ paths: fx.paths, port, upstreams: { blue: fx.blue.url, green: fx.green.url }, maxRequestBytes: 2048, progress });
    expect(r.started).to.equal(true);
    expect(r.record.pid).not.to.equal(before.record.pid);
    expect(lines.join("\n")).to.contain("request limit differ");
    const big = await fetch(`${r.record.url}/score`, { method: "POST", body: "z".repeat(4096) });
    expect(big.status).to.equal(413);
    await big.text();
    const small = await fetch(`${r.record.url}/score`, { method: "POST", body: "z".repeat(1024) });
    expect(await small.text()).to.equal("blue");
    expect((await r.client.state()).weights).to.deep.equal({ blue: 100, green: 0 });
  });
});

describe("router admin file", () => {
  it("is created 0600 even under umask 000, and replaced atomically", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "mlops-admin-file-"));
    const old = process.umask(0);
    try {
      const file = path.join(dir, "router.admin.json");
      await writeAdminFile(file, { url: "http://127.0.0.1:1", token: "t1", pid: 1 });
      await writeAdminFile(file, { url: "http://127.0.0.1:2", token: "t2", pid: 2 });
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect(await readAdminFile(file)).to.deep.equal({ url: "http://127.0.0.1:2", token: "t2", pid: 2 });
      expect(await readdir(dir)).to.deep.equal(["router.admin.json"]);
    } finally {
      process.umask(old);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a missing file says the router is not running", async () => {
    const err = await readAdminFile("/nonexistent/router.admin.json").catch((e: Error) => e);
    expect((err as Error).message).to.equal(
      "/nonexistent/router.admin.json does not exist: prod's router is not running (a release or 'mlops resume' starts it)",
    );
  });
});
