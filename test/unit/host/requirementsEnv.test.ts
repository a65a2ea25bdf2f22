import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ensureRequirementsEnv } from "../../../driver/host/pythonEnv.js";
import { infoRecorder, python3Version, SHARED_UV_ROOT } from "../../support/pythonEnvTesting.js";

const quiet = infoRecorder();
const uvRoot = SHARED_UV_ROOT;

describe("Python environment from a pinned requirements file (test-only environments such as the SDK oracle; real venv, no download)", function () {
  this.timeout(120_000);
  let root: string;
  let python: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "mlops-reqenv-"));
    python = await python3Version();
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("builds once with a completion marker, reuses it while the file is unchanged, and gives an edited file its own venv", async () => {
    const req = path.join(root, "oracle", "requirements.txt");
    await mkdir(path.dirname(req), { recursive: true });
    await writeFile(req, "# already in every venv: nothing to download\npip\n");
    const venvRoot = path.join(root, "venvs");
    const a = await ensureRequirementsEnv({ requirementsFile: req, python, venvRoot, uvRoot, progress: quiet });
    expect(existsSync(a.python)).to.equal(true);
    const marker = await readFile(path.join(a.dir, ".mlops-complete.json"), "utf8");
    expect(JSON.parse(marker)).to.deep.include({ envDigest: a.digest, python });
    expect(quiet.lines.some((l) => l.includes("1 packages from oracle/requirements.txt"))).to.equal(true);

    const again = await ensureRequirementsEnv({ requirementsFile: req, python, venvRoot, uvRoot, progress: quiet });
    expect(again.dir).to.equal(a.dir);
    expect(await readFile(path.join(a.dir, ".mlops-complete.json"), "utf8")).to.equal(marker); // not rebuilt

    await writeFile(req, "pip>=1\n");
    const edited = await ensureRequirementsEnv({ requirementsFile: req, python, venvRoot, uvRoot, progress: quiet });
    expect(edited.dir).to.not.equal(a.dir);
  });

  it("refuses a python3 that is not the version asked for, naming the requirements file and both versions", async () => {
    const req = path.join(root, "oracle", "requirements.txt");
    const err = (await ensureRequirementsEnv({ requirementsFile: req, python: "3.2", venvRoot: path.join(root, "v2"), progress: quiet }).catch(
      (e: Error) => e,
    )) as Error;
    expect(err.name).to.equal("EnvironmentError");
    expect(err.message).to.equal(
      `oracle/requirements.txt asks for Python 3.2 but python3 is Python ${python}; install Python 3.2 or set MLOPS_PYTHON to a Python 3.2 interpreter`,
    );
  });

  it("names a requirements file that does not exist", async () => {
    const err = (await ensureRequirementsEnv({ requirementsFile: path.join(root, "nope.txt"), python, venvRoot: path.join(root, "v3"), progress: quiet }).catch(
      (e: Error) => e,
    )) as Error;
    expect(err.message).to.equal(`${path.join(root, "nope.txt")} not found; it lists the packages of this Python environment`);
  });
});
