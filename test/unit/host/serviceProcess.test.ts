/**
 * The one way the local target starts a service (host/serviceProcess.ts), with real processes: the record exists
 * before the process runs, a service is stopped as a whole process group even when its leader died, and the port
 * guard stops this repository's leftovers but refuses anyone else's process with one line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { EnvironmentError } from "../../../driver/core/errors.js";
import { isPortFree, waitPortFree } from "../../../driver/host/portProbe.js";
import { isGroupAlive, isPidRunning, stopProcessGroup } from "../../../driver/host/processes.js";
import { listenersOn, membersOfGroup } from "../../../driver/host/procScan.js";
import {
  claimPort,
  leftoverServices,
  portHolder,
  SERVICE_ENV,
  serviceId,
  serviceRunning,
  startService,
  stopLeftoverServices,
  stopService,
  type ServiceProcessRecord,
} from "../../../driver/host/serviceProcess.js";
import { silentProgress } from "../../support/fakeTarget.js";
import { freePort } from "../../support/freePort.js";

/** node -e: checks the record names its token, then listens on the port (argv: record file, port). */
const LISTENER = `
const fs = require("fs");
const rec = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
if (rec.token !== process.env.MLOPS_SERVICE_TOKEN) { console.error("no record with my token"); process.exit(3); }
require("net").createServer().listen(Number(process.argv[2]), "127.0.0.1", () => console.log("listening"));
`;

/** node -e: a leader that starts a child (same process group) listening on the port, then idles (argv: port). */
const LEADER_WITH_CHILD = `
const { spawn } = require("child_process");
const c = spawn(process.execPath, ["-e", 'require("net").createServer().listen(Number(process.argv[1]), "127.0.0.1"); setInterval(() => {}, 1000)', process.argv[1]], { stdio: "ignore" });
console.log("child " + c.pid);
setInterval(() => {}, 1000);
`;

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("services the tool starts: recorded before they start, stopped as a whole group, ports guarded", function () {
  this.timeout(60_000);
  let dir: string;
  let stateDir: string;
  const strangers: ChildProcess[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "mlops-svc-"));
    stateDir = path.join(dir, ".mlops");
  });
  afterEach(async () => {
    await stopLeftoverServices(stateDir, 2_000);
    for (const s of strangers.splice(0)) s.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  const start = (port: number, script: string, args: string[]): Promise<ServiceProcessRecord> =>
    startService({
      recordFile: path.join(stateDir, "services", "svc.json"),
      stateDir,
      service: "svc",
      port,
      command: process.execPath,
      args: ["-e", script, ...args],
      cwd: dir,
      env: { ...process.env },
      logFile: path.join(stateDir, "logs", "svc.log"),
      extra: {},
    });

  it("writes the record with the start token before the process runs, then its pid and process group", async () => {
    const port = await freePort();
    const recordFile = path.join(stateDir, "services", "svc.json");
    const rec = await start(port, LISTENER, [recordFile, String(port)]);
    expect(rec.pid).to.be.greaterThan(0);
    expect(rec.pgid).to.equal(rec.pid); // its own process group
    expect(JSON.parse(await readFile(recordFile, "utf8"))).to.deep.include({ pid: rec.pid, token: rec.token, port, service: "svc" });
    // the process itself found the record naming its token when it started, before it bound the port
    await until("the service to listen", async () => !(await isPortFree(port)));
    expect(await readFile(path.join(stateDir, "logs", "svc.log"), "utf8")).to.contain("listening");
    expect(serviceRunning(rec, "no-marker-needed")).to.equal(true);
    expect(await stopService(rec, "x")).to.equal(true);
    expect(serviceRunning(rec, "x")).to.equal(false);
    expect(await isPortFree(port)).to.equal(true);
  });

  it("stops every process of a service's group when its leader died and its child still holds the port", async () => {
    const port = await freePort();
    const rec = await start(port, LEADER_WITH_CHILD, [String(port)]);
    await until("the child to listen", async () => !(await isPortFree(port)));
    const [child] = listenersOn(port);
    expect(child).to.be.a("number").and.not.equal(rec.pid);
    process.kill(rec.pid, "SIGKILL"); // the leader dies; its child (same group) keeps the port
    await until("the leader to be gone", () => !isPidRunning(rec.pid));
    expect(isGroupAlive(rec.pgid)).to.equal(true);
    expect(serviceRunning(rec, "x"), "the service still runs: its child carries the token").to.equal(true);
    expect(await stopService(rec, "x")).to.equal(true);
    expect(membersOfGroup(rec.pgid).filter(isPidRunning)).to.deep.equal([]);
    expect(await waitPortFree(port, 5_000)).to.equal(true);
  });

  it("stopProcessGroup stops the group's children even when the leader is already gone", async () => {
    const port = await freePort();
    const rec = await start(port, LEADER_WITH_CHILD, [String(port)]);
    await until("the child to listen", async () => !(await isPortFree(port)));
    process.kill(rec.pid, "SIGKILL");
    await until("the leader to be gone", () => !isPidRunning(rec.pid));
    expect(await stopProcessGroup(rec.pgid, 2_000)).to.equal(true);
    expect(isGroupAlive(rec.pgid)).to.equal(false);
    expect(await waitPortFree(port, 5_000)).to.equal(true);
  });

  it("the port guard stops this repository's own leftover on the port (no record needed) and the port is free", async () => {
    const port = await freePort();
    const leftover = spawn(process.execPath, ["-e", `require("net").createServer().listen(${port}, "127.0.0.1")`], {
      env: { ...process.env, [SERVICE_ENV]: serviceId(stateDir, "inference-int") },
      detached: true,
      stdio: "ignore",
    });
    strangers.push(leftover);
    await until("the leftover to listen", async () => !(await isPortFree(port)));
    expect(await portHolder(port, stateDir)).to.deep.include({ kind: "ours", service: "inference-int" });
    expect([...leftoverServices(stateDir).keys()]).to.deep.equal(["inference-int"]);
    const lines: string[] = [];
    await claimPort({ port, key: "int", stateDir, progress: { ...silentProgress, info: (l) => lines.push(l) } });
    expect(await isPortFree(port)).to.equal(true);
    expect(lines.join("\n")).to.match(/stopping inference-int \(pid \d+\), left on port \d+ by an earlier run of mlops/);
  });

  it("the port guard refuses a stranger's process (or another repository's service) with one line naming the port and key", async () => {
    for (const env of [{ ...process.env }, { ...process.env, [SERVICE_ENV]: serviceId(path.join(dir, "other", ".mlops"), "mlflow") }]) {
      const port = await freePort();
      const stranger = spawn(process.execPath, ["-e", `require("net").createServer().listen(${port}, "127.0.0.1")`], { env, stdio: "ignore" });
      strangers.push(stranger);
      await until("the stranger to listen", async () => !(await isPortFree(port)));
      expect((await portHolder(port, stateDir)).kind).to.equal("stranger");
      const err = await claimPort({ port, key: "int", stateDir, progress: silentProgress }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(EnvironmentError);
      expect((err as Error).message).to.equal(`port ${port} (int) is in use by another process; stop it or set local.ports.int in mlops.yaml`);
      expect(isPidRunning(stranger.pid!), "the stranger is left alone").to.equal(true);
    }
  });
});
