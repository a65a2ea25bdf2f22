import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO, tempRepo } from "../azure/support/harness.js";
import { freePort } from "../../support/freePort.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mlops(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [path.join(REPO, "bin", "mlops.js"), ...args], { env, cwd }, (err, stdout, stderr) =>
      resolve({ code: p.exitCode ?? (err as { code?: number } | null)?.code ?? null, stdout, stderr }),
    );
  });
}

describe("mlops doctor (CLI subprocess)", function () {
  this.timeout(60_000);
  let repo: ReturnType<typeof tempRepo>;
  let home: string;
  beforeEach(() => {
    repo = tempRepo();
    home = mkdtempSync(path.join(tmpdir(), "mlops-home-"));
  });
  afterEach(() => {
    repo.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it("local, --json: an array of {check, status, detail, fix} on stdout; exit 8 exactly when a check FAILed", async () => {
    const f = path.join(repo.root, "mlops.yaml");
    const ports = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    writeFileSync(
      f,
      readFileSync(f, "utf8").replace(/^local:[\s\S]*?(?=^\S|$(?![\s\S]))/m, "") +
        `\nlocal:\n  ports: {mlflow: ${ports[0]}, int: ${ports[1]}, prod: ${ports[2]}, prodBlue: ${ports[3]}, prodGreen: ${ports[4]}}\n`,
    );
    const r = await mlops(
      ["--repo", repo.root, "doctor", "--json"],
      { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MLOPS_VENV_ROOT: path.join(home, "venvs") },
      repo.root,
    );
    const rs = JSON.parse(r.stdout) as { check: string; status: string; detail: string; fix: string }[];
    expect(rs.map((x) => x.check)).to.deep.equal([
      "node",
      "python",
      "venv",
      "port[mlflow]",
      "port[int]",
      "port[prod]",
      "port[prodBlue]",
      "port[prodGreen]",
      "disk[venv + MLflow store and logs]",
      "approvers[prod]",
    ]);
    for (const x of rs) expect(Object.keys(x).sort()).to.deep.equal(["check", "detail", "fix", "status"]);
    expect(rs.find((x) => x.check === "venv")!.status).to.equal("warn"); // a fresh venv root: not built yet
    expect(r.code).to.equal(rs.some((x) => x.status === "FAIL") ? 8 : 0);
  });

  it("azure without any login: exit 8, the credential, subscription and backend FAILs each with a fix, within seconds", async () => {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MLOPS_AZURE_CREDENTIAL_TIMEOUT_MS: "1500" };
    const t0 = Date.now();
    const r = await mlops(["--repo", repo.root, "doctor", "--target", "azure"], env, repo.root);
    expect(Date.now() - t0).to.be.below(30_000);
    expect(r.code).to.equal(8);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.find((l) => l.startsWith("FAIL credential: "))).to.match(/^FAIL credential: no Azure credential.*; run 'az login'/);
    expect(lines.find((l) => l.startsWith("FAIL subscription: "))).to.match(/no subscription for stack 'int', 'prod'.*; set ARM_SUBSCRIPTION_ID/);
    expect(lines.find((l) => l.startsWith("FAIL backend: "))).to.match(/^FAIL backend: no Pulumi backend/);
    expect(lines.at(-1)).to.match(/^\d+ checks: \d+ FAIL, \d+ warn$/);
  });

  it("--stack other than int/prod is bad input: exit 2 and one line", async () => {
    const r = await mlops(
      ["--repo", repo.root, "doctor", "--target", "azure", "--stack", "qa"],
      { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
      repo.root,
    );
    expect(r.code).to.equal(2);
    expect(r.stderr.trimEnd()).to.equal("mlops: --stack 'qa' is not a stack; use one of: int, prod");
  });
});
