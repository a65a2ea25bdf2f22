/**
 * The local target's checks before a release's first step (localPreflight.ts), with real ports and processes and a
 * stand-in interpreter: a stranger on any configured port or a missing Python stops it with one line; this
 * repository's own leftover on a port does not.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { parseReleaseConfig, type ReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { EnvironmentError } from "../../../driver/core/errors.js";
import { isPortFree } from "../../../driver/host/portProbe.js";
import { SERVICE_ENV, serviceId, stopLeftoverServices } from "../../../driver/host/serviceProcess.js";
import { localPaths, type LocalPaths } from "../../../driver/targets/local/localPaths.js";
import { localPreflight } from "../../../driver/targets/local/localPreflight.js";
import { silentProgress } from "../../support/fakeTarget.js";
import { freePort } from "../../support/freePort.js";

const REPO = path.resolve(import.meta.dirname, "../../..");

function listenIn(port: number, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ["-e", `require("net").createServer().listen(${port}, "127.0.0.1")`], { env, stdio: "ignore", detached: true });
}

describe("local preflight: tools and ports before the first step", function () {
  this.timeout(30_000);
  let root: string;
  let paths: LocalPaths;
  let ports: Record<string, number>;
  let config: ReleaseConfig;
  const saved = process.env.MLOPS_PYTHON;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    root = mkdtempSync(path.join(tmpdir(), "mlops-preflight-"));
    cpSync(path.join(REPO, "ml", "conda.yml"), path.join(root, "ml", "conda.yml"));
    const python = path.join(root, "python-3.11");
    writeFileSync(python, "#!/bin/sh\necho 3.11\n");
    chmodSync(python, 0o755);
    process.env.MLOPS_PYTHON = python;
    paths = localPaths(root, path.join(root, "venvs"));
    ports = { mlflow: await freePort(), int: await freePort(), prod: await freePort(), prodBlue: await freePort(), prodGreen: await freePort() };
    config = parseReleaseConfig({
      model: { name: "m", experiment: "e" },
      gate: { metrics: { rmse: { greater_is_better: false, threshold: 1 } } },
      local: { ports },
    });
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.MLOPS_PYTHON;
    else process.env.MLOPS_PYTHON = saved;
    await stopLeftoverServices(paths.stateDir, 2_000);
    for (const c of children.splice(0)) c.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  });

  const until = async (ok: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 100));
  };

  it("passes on free ports and the Python conda.yml pins", async () => {
    await localPreflight({ paths, config, progress: silentProgress });
  });

  it("refuses a stranger's process on any configured port, naming the port and its mlops.yaml key", async () => {
    children.push(listenIn(ports.prodGreen!, { ...process.env }));
    await until(async () => !(await isPortFree(ports.prodGreen!)));
    const err = await localPreflight({ paths, config, progress: silentProgress }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EnvironmentError);
    expect((err as Error).message).to.equal(
      `port ${ports.prodGreen} (prodGreen) is in use by another process; stop it or set local.ports.prodGreen in mlops.yaml`,
    );
  });

  it("accepts this repository's own leftover on a port (the step that needs the port stops or adopts it)", async () => {
    children.push(listenIn(ports.int!, { ...process.env, [SERVICE_ENV]: serviceId(paths.stateDir, "inference-int") }));
    await until(async () => !(await isPortFree(ports.int!)));
    await localPreflight({ paths, config, progress: silentProgress });
  });

  it("refuses a missing interpreter with one line saying what to install", async () => {
    process.env.MLOPS_PYTHON = path.join(root, "no-such-python");
    const err = await localPreflight({ paths, config, progress: silentProgress }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal(
      `${path.join(root, "no-such-python")} was not found or does not run; install Python 3.11 or set MLOPS_PYTHON to its path`,
    );
  });
});
