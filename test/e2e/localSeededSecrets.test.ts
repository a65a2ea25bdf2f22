/**
 * End to end: seeded secrets through a local release as a user runs it (the `mlops` CLI as a subprocess, real
 * MLflow, azmlinfsrv and the weighted router) with a client secret, a SAS token, a storage key and the Pulumi
 * passphrase in its environment, which every process the release starts inherits. release -> approve ->
 * promote -> status -> down; then every file under the temp repository (state dir: records, logs, reports,
 * MLflow's store and artifacts) and every command's stdout and stderr is searched for each seeded value. The
 * router's admin token must be in its 0600 admin file and nowhere else. Ports 5760-5764.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parse } from "yaml";
import { filesUnder, leaks, seedSecrets } from "../support/seededSecrets.js";
import { REPO_ROOT, SHARED_VENV_ROOT, makeTempRepo, type TempRepo } from "./localRepoFixture.js";

const PORTS = { mlflow: 5760, int: 5761, prod: 5762, prodBlue: 5763, prodGreen: 5764 };
const OVERRIDES = {
  profile: { enabled: false },
  rollout: { steps: [50, 100], observeSeconds: 1, probeRps: 20, minRequests: 5, maxErrorRate: 0.01 },
};
const run = promisify(execFile);

describe("local target: seeded secrets never reach logs, records, reports, stdout or stderr", function () {
  this.timeout(15 * 60_000);
  const secrets = seedSecrets();
  const captured: Array<[string, string]> = [];
  let repo: TempRepo;

  async function mlops(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let r: { code: number; stdout: string; stderr: string };
    try {
      const ok = await run(process.execPath, [path.join(REPO_ROOT, "bin", "mlops.js"), "--repo", repo.root, ...args], {
        env: { ...process.env, ...secrets.env, MLOPS_VENV_ROOT: SHARED_VENV_ROOT },
        timeout: 600_000,
        maxBuffer: 32 * 1024 * 1024,
      });
      r = { code: 0, stdout: ok.stdout, stderr: ok.stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      r = { code: typeof x.code === "number" ? x.code : 1, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
    }
    captured.push([`mlops ${args.join(" ")} stdout`, r.stdout], [`mlops ${args.join(" ")} stderr`, r.stderr]);
    if (process.env.MLOPS_E2E_VERBOSE) process.stderr.write(`    mlops ${args.join(" ")} -> ${r.code}\n${r.stderr}`);
    return r;
  }

  before(async () => {
    repo = await makeTempRepo(PORTS, OVERRIDES);
  });
  after(async () => {
    await mlops("down").catch(() => undefined);
    if (repo && !process.env.MLOPS_E2E_KEEP) await repo.remove();
  });

  it("release -> approve -> promote -> status -> down with secrets in the environment leaks none of them, nor the router's admin token", async () => {
    const rel = await mlops("--json", "release");
    expect(rel.code, rel.stderr.slice(-2000)).to.equal(0);
    const id = (JSON.parse(rel.stdout) as { id: string; state: string }).id;
    const approvers = (parse(await readFile(path.join(repo.root, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, string[]> }).config[
      "mlops:approvers"
    ]!;
    const approve = await mlops("approve", id, "--as", approvers[0]!);
    expect(approve.code, approve.stderr).to.equal(0);
    const promote = await mlops("promote", id);
    expect(promote.code, promote.stderr.slice(-2000)).to.equal(0);
    const status = await mlops("--json", "status");
    expect(status.code, status.stderr).to.equal(0);

    const adminFile = path.join(repo.root, ".mlops", "stacks", "prod", "router.admin.json");
    const adminToken = (JSON.parse(await readFile(adminFile, "utf8")) as { token: string }).token;
    const whileRunning = await filesUnder(repo.root);
    expect(whileRunning.filter(([, b]) => b.includes(adminToken)).map(([p]) => p)).to.deep.equal([adminFile]);

    const down = await mlops("down");
    expect(down.code, down.stderr).to.equal(0);
    const files = await filesUnder(repo.root);
    expect(
      files.some(([p]) => p.endsWith(".log")),
      "the release wrote logs",
    ).to.equal(true);
    expect(
      files.some(([p]) => p.includes(`${path.sep}reports${path.sep}`)),
      "the release wrote a report",
    ).to.equal(true);
    expect(leaks(secrets, [...captured, ...files])).to.deep.equal([]);
    expect(captured.filter(([, text]) => text.includes(adminToken)).map(([w]) => w)).to.deep.equal([]);
  });
});
