import net from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { isPortFree } from "../../../driver/host/portProbe.js";
import { acquireFileLock } from "../../../driver/host/fileLock.js";
import { isOurProcess } from "../../../driver/host/processes.js";
import { localPaths } from "../../../driver/targets/local/localPaths.js";

describe("local ports, locks and processes", () => {
  it("sees a loopback port held by another listener as in use, and free once it is closed", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    expect(await isPortFree(port)).to.equal(false);
    await new Promise<void>((r) => srv.close(() => r()));
    expect(await isPortFree(port)).to.equal(true);
  });

  it("a lock file is exclusive while its holder lives and taken over when the holder is gone", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "mlops-lock-"));
    try {
      const file = path.join(dir, "x.lock");
      const held = await acquireFileLock(file, { what: "x", timeoutMs: 1000 });
      const err = await acquireFileLock(file, { what: "the thing", timeoutMs: 300 }).catch((e: Error) => e);
      expect((err as Error).message).to.match(/^the thing is locked by process \d+/);
      await held.release();
      await writeFile(file, JSON.stringify({ pid: 2 ** 22 + 12345 })); // a pid that does not exist
      const taken = await acquireFileLock(file, { what: "x", timeoutMs: 1000 });
      await taken.release();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("does not trust a pid whose command line is not the program we started", () => {
    expect(isOurProcess(process.pid, "azureml_inference_server_http")).to.equal(false);
    expect(isOurProcess(0, "node")).to.equal(false);
  });

  it("shares virtualenvs across repository roots when MLOPS_VENV_ROOT is set", () => {
    const saved = process.env.MLOPS_VENV_ROOT;
    try {
      process.env.MLOPS_VENV_ROOT = "/tmp/shared-venvs";
      expect(localPaths("/a").venvRoot).to.equal("/tmp/shared-venvs");
      delete process.env.MLOPS_VENV_ROOT;
      expect(localPaths("/a").venvRoot).to.equal("/a/.mlops/venvs");
      expect(localPaths("/a").deploymentFile("int")).to.equal("/a/.mlops/stacks/int/deployment.json");
    } finally {
      if (saved === undefined) delete process.env.MLOPS_VENV_ROOT;
      else process.env.MLOPS_VENV_ROOT = saved;
    }
  });
});
