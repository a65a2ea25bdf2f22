import { existsSync } from "node:fs";
import { mkdtemp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ensurePythonEnv } from "../../../driver/host/pythonEnv.js";
import { infoRecorder, python3Version, SHARED_UV_ROOT } from "../../support/pythonEnvTesting.js";

const quiet = infoRecorder();
const uvRoot = SHARED_UV_ROOT;

describe("Python environment from conda.yml (real venv, no packages)", function () {
  this.timeout(120_000);
  let root: string;
  let venvRoot: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "mlops-env-"));
    venvRoot = path.join(root, "venvs");
    await mkdir(path.join(root, "ml"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("refuses a python3 that is not the version conda.yml asks for, naming both", async () => {
    await writeFile(path.join(root, "ml", "conda.yml"), "dependencies: [python=3.2, pip]\n");
    const err = (await ensurePythonEnv({ repoRoot: root, venvRoot, uvRoot, progress: quiet }).catch((e: Error) => e)) as Error;
    expect(err.name).to.equal("EnvironmentError");
    expect(err.message).to.equal(
      `ml/conda.yml asks for Python 3.2 but python3 is Python ${await python3Version()}; install Python 3.2 or set MLOPS_PYTHON to a Python 3.2 interpreter`,
    );
  });

  it("builds once, reuses while the digest is unchanged, and rebuilds a venv that has no completion marker", async () => {
    await writeFile(path.join(root, "ml", "conda.yml"), `dependencies: [python=${await python3Version()}, pip]\n`);
    const a = await ensurePythonEnv({ repoRoot: root, venvRoot, uvRoot, progress: quiet });
    expect(existsSync(a.python)).to.equal(true);
    expect(quiet.lines.some((l) => l.startsWith("creating Python environment with "))).to.equal(true);
    quiet.lines.length = 0;
    const b = await ensurePythonEnv({ repoRoot: root, venvRoot, uvRoot, progress: quiet });
    expect(b.dir).to.equal(a.dir);
    expect(quiet.lines).to.deep.equal([]);
    // a crash during pip install leaves a directory without the marker: it is discarded and rebuilt
    await rm(path.join(a.dir, ".mlops-complete.json"));
    await writeFile(path.join(a.dir, "half-built"), "");
    await ensurePythonEnv({ repoRoot: root, venvRoot, uvRoot, progress: quiet });
    expect(quiet.lines.some((l) => l.startsWith("discarding an incomplete Python environment"))).to.equal(true);
    expect(existsSync(path.join(a.dir, "half-built"))).to.equal(false);
    expect((await readdir(venvRoot)).filter((n) => !n.endsWith(".lock"))).to.have.length(1);
  });
});
