/**
 * `mlops release` checks both stack files before anything runs (tests, training, a deployment): a bad
 * Pulumi.prod.yaml used to surface only at the approval hold, after a whole release, and a bad
 * Pulumi.int.yaml on Azure only at INT's `pulumi up`, after training.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO, tempRepo } from "../azure/support/harness.js";

function release(root: string, target: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(
      process.execPath,
      [path.join(REPO, "bin", "mlops.js"), "--repo", root, "release", "--target", target],
      // MLOPS_PYTHON points nowhere: without the check the local release stops at its first step instead of training.
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, MLOPS_PYTHON: path.join(root, "no-python") }, cwd: root },
      (e, stdout, stderr) => resolve({ code: p.exitCode ?? (e as { code?: number } | null)?.code ?? null, stdout, stderr }),
    );
  });
}

describe("CLI: mlops release refuses invalid stack files before any step", function () {
  this.timeout(60_000);
  for (const target of ["local", "azure"]) {
    it(`${target}: an HTTP PROD stack file is one line naming stack and key, exit 2, no release recorded`, async () => {
      const repo = tempRepo();
      try {
        const file = path.join(repo.root, "Pulumi.prod.yaml");
        writeFileSync(file, readFileSync(file, "utf8").replace("allowInsecureConnections: false", "allowInsecureConnections: true"));
        const r = await release(repo.root, target);
        expect(
          r.stderr
            .trimEnd()
            .split("\n")
            .filter((l) => l.startsWith("mlops:")),
        ).to.deep.equal([
          "mlops: stack 'prod': mlops:aks.allowInsecureConnections (true) must be false when tags.environment is prod: the endpoint key would cross the load balancer in clear text; serve over TLS with mlops:aks.tls.cname and a certificate (mlops:aks.tls.secretName or mlops:tlsCertificate + mlops:tlsPrivateKey); fix Pulumi.prod.yaml",
        ]);
        expect(r.code).to.equal(2);
        expect(existsSync(path.join(repo.root, ".mlops", "releases")), "no release recorded").to.equal(false);
      } finally {
        repo.cleanup();
      }
    });
  }
});
