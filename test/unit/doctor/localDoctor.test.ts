import { expect } from "chai";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseReleaseConfig, type ReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { localDoctor } from "../../../driver/doctor/local/localDoctor.js";
import type { LocalDoctorDeps } from "../../../driver/doctor/local/localChecks.js";
import { doctorExitCode } from "../../../driver/doctor/runChecks.js";
import { envDigest } from "../../../driver/source/fingerprint.js";
import { localPaths } from "../../../driver/targets/local/localPaths.js";
import { freePort } from "../../support/freePort.js";

const REPO = path.resolve(import.meta.dirname, "../../..");

/** A stand-in interpreter that answers the version probe with `version`. */
function fakePython(dir: string, version: string): string {
  const file = path.join(dir, `python-${version}`);
  writeFileSync(file, `#!/bin/sh\necho ${version}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe("mlops doctor (local target)", function () {
  this.timeout(20_000);
  let root: string;
  let config: ReleaseConfig;
  let deps: Partial<LocalDoctorDeps>;
  let ports: Record<string, number>;

  beforeEach(async () => {
    root = mkdtempSync(path.join(tmpdir(), "mlops-doctor-"));
    cpSync(path.join(REPO, "ml", "conda.yml"), path.join(root, "ml", "conda.yml"), { recursive: true });
    cpSync(path.join(REPO, "Pulumi.prod.yaml"), path.join(root, "Pulumi.prod.yaml"));
    ports = { mlflow: await freePort(), int: await freePort(), prod: await freePort(), prodBlue: await freePort(), prodGreen: await freePort() };
    config = parseReleaseConfig({
      model: { name: "m", experiment: "e" },
      gate: { metrics: { rmse: { greater_is_better: false, threshold: 1 } } },
      local: { ports },
    });
    deps = {
      nodeVersion: "22.23.3",
      python: fakePython(root, "3.11"),
      servicesStatus: async () => [],
      freeSpace: async () => ({ free: 50 * 1024 ** 3, device: 1 }),
    };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const paths = () => localPaths(root, path.join(root, "venvs"));
  const run = () => localDoctor(root, config, { deps, paths: paths() });
  const one = async (check: string) => (await run()).find((r) => r.check === check)!;

  it("all ok on a ready machine: node, python, a built venv, free ports, disk; exit 0", async () => {
    const digest = await envDigest(root);
    const dir = path.join(root, "venvs", digest.slice(0, 16));
    mkdirSync(path.join(dir, "bin"), { recursive: true });
    writeFileSync(path.join(dir, "bin", "python"), "");
    writeFileSync(
      path.join(dir, ".mlops-complete.json"),
      JSON.stringify({ envDigest: digest, python: "3.11", createdAt: "2026-12-02T03:00:00Z", installSeconds: 61 }),
    );
    const rs = await run();
    expect(rs.map((r) => `${r.status} ${r.check}`)).to.deep.equal([
      "ok node",
      "ok python",
      "ok venv",
      "ok port[mlflow]",
      "ok port[int]",
      "ok port[prod]",
      "ok port[prodBlue]",
      "ok port[prodGreen]",
      "ok disk[venv + MLflow store and logs]",
      "ok approvers[prod]",
    ]);
    expect(rs[2]!.detail).to.equal(`built for ml/conda.yml digest ${digest.slice(0, 12)} in ${dir} (2026-12-02, pip took 61 s)`);
    expect(doctorExitCode(rs)).to.equal(0);
  });

  it("node: FAIL below 22, with how to get the project's own Node", async () => {
    deps.nodeVersion = "20.11.1";
    const r = await one("node");
    expect([r.status, r.detail]).to.deep.equal(["FAIL", "Node.js 20.11.1 is older than 22"]);
    expect(r.fix).to.match(/npx or the npm scripts/);
  });

  it("python: FAIL when the interpreter is not the version ml/conda.yml pins", async () => {
    deps.python = fakePython(root, "3.10");
    const r = await one("python");
    expect(r.status).to.equal("FAIL");
    expect(r.detail).to.equal(`ml/conda.yml asks for Python 3.11 but ${deps.python} is Python 3.10`);
    expect(r.fix).to.match(/^install Python 3\.11 or set MLOPS_PYTHON/);
  });

  it("python: FAIL when the interpreter does not run", async () => {
    deps.python = path.join(root, "no-such-python");
    const r = await one("python");
    expect([r.status, r.detail]).to.deep.equal(["FAIL", `${deps.python} was not found or does not run`]);
  });

  it("venv: not built yet / half-built are warnings (built on first use), never FAIL", async () => {
    expect((await one("venv")).detail).to.match(/^not built yet for ml\/conda\.yml digest [0-9a-f]{12}/);
    const digest = await envDigest(root);
    mkdirSync(path.join(root, "venvs", digest.slice(0, 16)), { recursive: true });
    const r = await one("venv");
    expect([r.status, r.detail]).to.deep.equal([
      "warn",
      `${path.join(root, "venvs", digest.slice(0, 16))} is incomplete (no completion marker for digest ${digest.slice(0, 12)})`,
    ]);
  });

  it("ports: FAIL for a port another process holds, ok for one the project's own service holds", async () => {
    const other = net.createServer();
    const ours = net.createServer();
    await new Promise<void>((r) => other.listen(ports.int, "127.0.0.1", () => r()));
    await new Promise<void>((r) => ours.listen(ports.mlflow, "127.0.0.1", () => r()));
    try {
      deps.servicesStatus = async () => [{ name: "mlflow", port: ports.mlflow!, pid: 4242, running: true, healthy: true, detail: "" }];
      const rs = await run();
      const int = rs.find((r) => r.check === "port[int]")!;
      expect([int.status, int.detail]).to.deep.equal(["FAIL", `${ports.int} (mlops.yaml local.ports.int) is in use by another process`]);
      expect(int.fix).to.match(/set local\.ports\.int in mlops\.yaml/);
      expect(rs.find((r) => r.check === "port[mlflow]")!.detail).to.equal(`${ports.mlflow} held by the project's own mlflow (pid 4242)`);
      expect(doctorExitCode(rs)).to.equal(8);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
      await new Promise<void>((r) => ours.close(() => r()));
    }
  });

  it("disk: FAIL when the filesystem has less than the venv and store need (summed when they share it)", async () => {
    deps.freeSpace = async () => ({ free: 1 * 1024 ** 3, device: 7 });
    const r = await one("disk[venv + MLflow store and logs]");
    expect(r.status).to.equal("FAIL");
    expect(r.detail).to.match(/^1\.0 GB free for .*; needs about 2\.0 GB$/);
    expect(r.fix).to.match(/MLOPS_VENV_ROOT/);
  });

  it("disk: FAIL when .mlops is a file (nothing could be created under it), naming the path and what to do", async () => {
    writeFileSync(path.join(root, ".mlops"), "not a directory\n");
    const rs = await localDoctor(root, config, { deps, paths: localPaths(root, path.join(root, ".mlops", "venvs")) });
    const bad = rs.filter((r) => r.status === "FAIL");
    expect(bad.map((r) => `${r.check}: ${r.detail}`)).to.deep.equal([
      `disk[venv]: ${path.join(root, ".mlops", "venvs")} cannot be created or written: ${path.join(root, ".mlops")} is not a directory`,
      `disk[MLflow store and logs]: ${path.join(root, ".mlops")} cannot be created or written: ${path.join(root, ".mlops")} is not a directory`,
    ]);
    expect(bad[0]!.fix).to.match(/^move .*\.mlops aside/);
    expect(doctorExitCode(rs)).to.equal(8);
  });

  it("disk: venv and store on different filesystems are judged apart", async () => {
    mkdirSync(path.join(root, "venvs"));
    mkdirSync(path.join(root, ".mlops"));
    deps.freeSpace = async (dir) => (dir.endsWith("venvs") ? { free: 0.2 * 1024 ** 3, device: 1 } : { free: 10 * 1024 ** 3, device: 2 });
    const rs = (await run()).filter((r) => r.check.startsWith("disk"));
    expect(rs.map((r) => `${r.status} ${r.check}: ${r.detail}`)).to.deep.equal([
      `FAIL disk[venv]: 0.2 GB free for ${path.join(root, "venvs")}; needs about 1.5 GB`,
      `ok disk[MLflow store and logs]: 10.0 GB free for ${path.join(root, ".mlops")}; needs about 0.5 GB`,
    ]);
  });

  it("approvers[prod]: who may approve, and that a local approval records the OS user, not an authenticated identity", async () => {
    const r = await one("approvers[prod]");
    expect(r.status).to.equal("ok");
    expect(r.detail).to.match(
      /^2 may approve \(alice@contoso\.com, bob@contoso\.com\); an approval here records the OS user \S+@\S+, not an authenticated identity/,
    );
  });

  it("approvers[prod]: no Pulumi.prod.yaml is a warning (a release reaches the hold, nobody can approve it); an invalid one FAILs", async () => {
    rmSync(path.join(root, "Pulumi.prod.yaml"));
    const missing = await one("approvers[prod]");
    expect([missing.status, missing.detail]).to.deep.equal(["warn", "nobody may approve a release for prod: Pulumi.prod.yaml lists no mlops:approvers"]);
    writeFileSync(path.join(root, "Pulumi.prod.yaml"), "config:\n  mlops:approvers: [42]\n");
    const bad = await one("approvers[prod]");
    expect(bad.status).to.equal("FAIL");
    expect(bad.detail).to.match(/^stack 'prod': .*\(Pulumi\.prod\.yaml\)$/);
    expect(doctorExitCode(await run())).to.not.equal(0);
  });
});
