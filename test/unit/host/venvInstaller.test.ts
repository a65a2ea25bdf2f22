import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execa } from "execa";
import { expect } from "chai";
import { ensurePythonEnv, ensureRequirementsEnv } from "../../../driver/host/pythonEnv.js";
import { UV_VERSION } from "../../../driver/host/uvTool.js";
import { localBuildPackage } from "../../support/localBuildPackage.js";
import { infoRecorder, python3Version, SHARED_UV_ROOT } from "../../support/pythonEnvTesting.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

async function marker(dir: string): Promise<{ installer?: string; envDigest: string }> {
  return JSON.parse(await readFile(path.join(dir, ".mlops-complete.json"), "utf8")) as { installer?: string; envDigest: string };
}

async function imports(python: string): Promise<string> {
  return (await execa(python, ["-c", "import localbuildpkg; print(localbuildpkg.BUILT_BY_BACKEND)"])).stdout.trim();
}

/** Sets environment variables for the duration of fn (undefined = unset) and puts the old values back. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(old);
  }
}

describe("Python environments are installed by uv, or by pip when uv cannot be had (real venvs, a local package built offline)", function () {
  this.timeout(300_000);
  let root: string;
  let python: string;
  let env: Record<string, string | undefined>;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "mlops-installer-"));
    python = await python3Version();
    // an empty uv cache: the local package is really built, never taken from an earlier run
    env = { UV_CACHE_DIR: path.join(root, "uv-cache"), MLOPS_UV: undefined };
  });
  after(() => rm(root, { recursive: true, force: true }));

  async function condaRepo(name: string, requirement: string): Promise<string> {
    const repo = path.join(root, name);
    await mkdir(path.join(repo, "ml"), { recursive: true });
    await writeFile(path.join(repo, "ml", "conda.yml"), `dependencies:\n  - python=${python}\n  - pip\n  - pip:\n      - "${requirement}"\n`);
    return repo;
  }

  it("builds the conda.yml environment with the pinned uv (.pyc compiled at install, as pip does), and says so in the progress and the completion marker", async () => {
    const pkg = await localBuildPackage(path.join(root, "uv-case"));
    const repo = await condaRepo("uv-case", pkg.requirement);
    const progress = infoRecorder();
    // no import writes a .pyc here: the ones there were written at install, as pip does
    const e = await withEnv({ ...env, PYTHONDONTWRITEBYTECODE: "1" }, () =>
      ensurePythonEnv({ repoRoot: repo, venvRoot: path.join(root, "venvs-uv"), uvRoot: SHARED_UV_ROOT, progress }),
    );
    const tag = `cpython-${python.replace(".", "")}`;
    expect(existsSync(path.join(e.dir, "lib", `python${python}`, "site-packages", "__pycache__", `localbuildpkg.${tag}.pyc`))).to.equal(true);
    expect(await imports(e.python)).to.equal("True");
    expect((await marker(e.dir)).installer).to.equal(`uv ${UV_VERSION}`);
    expect(progress.lines.some((l) => l.startsWith(`creating Python environment with uv ${UV_VERSION} (first run`))).to.equal(true, progress.lines.join("\n"));
    expect(progress.lines.at(-1)).to.match(new RegExp(`^Python environment ready in \\d+s \\(uv ${UV_VERSION.replace(/\./g, "\\.")}\\)$`));
    // each stage in order, the bytecode compilation named as such (it is most of a warm-cache build)
    const stages = progress.lines.filter((l) => /^(resolved|installed) \d+ packages? \(|^compiled \d+ files to bytecode \(/.test(l));
    expect(
      stages.map((l) => l.split(" ")[0]),
      progress.lines.join("\n"),
    ).to.deep.equal(["resolved", "installed", "compiled"]);
    expect(stages[1]).to.match(/; compiling them to bytecode$/);
    expect(existsSync(path.join(e.dir, "uv-install.log"))).to.equal(true);
    expect(existsSync(path.join(e.dir, "bin", "pip"))).to.equal(true); // the venv keeps pip, as conda.yml lists it
  });

  it("builds a requirements-file environment (the SDK oracle's path) with uv too", async () => {
    const pkg = await localBuildPackage(path.join(root, "req-case"));
    const req = path.join(root, "req-case", "requirements.txt");
    await writeFile(req, `${pkg.requirement}\n`);
    const progress = infoRecorder();
    const e = await withEnv(env, () =>
      ensureRequirementsEnv({ requirementsFile: req, python, venvRoot: path.join(root, "venvs-req"), uvRoot: SHARED_UV_ROOT, progress }),
    );
    expect(await imports(e.python)).to.equal("True");
    expect((await marker(e.dir)).installer).to.equal(`uv ${UV_VERSION}`);
  });

  it("makes the venv with 'python3 -m venv' when 'uv venv' cannot seed pip (offline, nothing cached), says so, and uv still installs", async () => {
    const pkg = await localBuildPackage(path.join(root, "seed-case"));
    const repo = await condaRepo("seed-case", pkg.requirement);
    const progress = infoRecorder();
    // an empty uv cache and no index: uv has no pip wheel to seed the venv with
    const e = await withEnv({ ...env, UV_CACHE_DIR: path.join(root, "seed-cache"), UV_OFFLINE: "1" }, () =>
      ensurePythonEnv({ repoRoot: repo, venvRoot: path.join(root, "venvs-seed"), uvRoot: SHARED_UV_ROOT, progress }),
    );
    const said = progress.lines.filter((l) => l.startsWith("'uv venv' could not make the environment ("));
    expect(said, progress.lines.join("\n")).to.have.length(1);
    expect(said[0]).to.match(/\); making it with '.+ -m venv'$/);
    expect(await imports(e.python)).to.equal("True");
    expect((await marker(e.dir)).installer).to.equal(`uv ${UV_VERSION}`);
    expect(existsSync(path.join(e.dir, "bin", "pip"))).to.equal(true);
  });

  it("falls back to pip when uv cannot be installed (the package index refuses), saying so and why in one line", async () => {
    const pkg = await localBuildPackage(path.join(root, "pip-case"));
    const repo = await condaRepo("pip-case", pkg.requirement);
    const progress = infoRecorder();
    // a fresh uv root and an index that refuses every connection: the uv wheel cannot be had
    const refused = { ...env, PIP_INDEX_URL: "http://127.0.0.1:9/simple", PIP_NO_CACHE_DIR: "1", PIP_RETRIES: "0", PIP_FIND_LINKS: undefined };
    const e = await withEnv(refused, () =>
      ensurePythonEnv({ repoRoot: repo, venvRoot: path.join(root, "venvs-pip"), uvRoot: path.join(root, "no-uv"), progress }),
    );
    expect(await imports(e.python)).to.equal("True");
    expect((await marker(e.dir)).installer).to.equal("pip");
    const said = progress.lines.filter((l) => l.includes("pip, not uv"));
    expect(said).to.have.length(1);
    expect(said[0]).to.match(
      new RegExp(
        `^creating Python environment with pip, not uv \\(pip could not install uv ${UV_VERSION.replace(/\./g, "\\.")}: ERROR: .+; first run, ~5 min\\): 1 packages from ml/conda.yml into `,
      ),
    );
    expect(existsSync(path.join(e.dir, "pip-install.log"))).to.equal(true);
    expect(existsSync(path.join(root, "no-uv", `uv-${UV_VERSION}`, ".mlops-complete.json"))).to.equal(false);
  });

  it("uses pip when MLOPS_UV=off, naming the setting", async () => {
    const pkg = await localBuildPackage(path.join(root, "off-case"));
    const repo = await condaRepo("off-case", pkg.requirement);
    const progress = infoRecorder();
    const e = await withEnv({ ...env, MLOPS_UV: "off" }, () =>
      ensurePythonEnv({ repoRoot: repo, venvRoot: path.join(root, "venvs-off"), uvRoot: SHARED_UV_ROOT, progress }),
    );
    expect((await marker(e.dir)).installer).to.equal("pip");
    expect(progress.lines.some((l) => l.startsWith("creating Python environment with pip, not uv (MLOPS_UV=off; first run"))).to.equal(true);
  });

  it("refuses an MLOPS_UV that is not a uv binary, naming it", async () => {
    const repo = await condaRepo("bad-uv", "six");
    const err = (await withEnv({ ...env, MLOPS_UV: "/nonexistent/uv" }, () =>
      ensurePythonEnv({ repoRoot: repo, venvRoot: path.join(root, "venvs-bad"), uvRoot: SHARED_UV_ROOT, progress: infoRecorder() }),
    ).catch((x: Error) => x)) as Error;
    expect(err.name).to.equal("EnvironmentError");
    expect(err.message).to.equal(`MLOPS_UV=/nonexistent/uv is not a uv binary that runs; point it at one, or unset it to use uv ${UV_VERSION}`);
  });

  it("discards and rebuilds an environment whose builder was killed (kill -9) while uv was installing it, never using it", async () => {
    const pkg = await localBuildPackage(path.join(root, "kill-case"));
    const repo = await condaRepo("kill-case", pkg.requirement);
    const venvRoot = path.join(root, "venvs-kill");
    const script = path.join(root, "build-env.mts"); // an ES module: top-level await
    const moduleUrl = pathToFileURL(path.join(REPO, "driver", "host", "pythonEnv.ts")).href;
    await writeFile(
      script,
      `import { ensurePythonEnv } from ${JSON.stringify(moduleUrl)};\n` +
        `const progress = { stepStarted() {}, stepFinished() {}, info(m) { console.log(m); } };\n` +
        `await ensurePythonEnv({ repoRoot: process.argv[2], venvRoot: process.argv[3], uvRoot: process.argv[4], progress });\n`,
    );
    await pkg.hold();
    const child = execa(process.execPath, ["--import", "tsx", script, repo, venvRoot, SHARED_UV_ROOT], {
      cwd: REPO,
      detached: true, // its own process group: the kill takes uv and the build backend with it
      reject: false,
      all: true,
      env: { UV_CACHE_DIR: env.UV_CACHE_DIR },
    });
    const deadline = Date.now() + 120_000;
    while (!pkg.building() && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    if (!pkg.building()) throw new Error(`uv never started building the package; the builder said:\n${(await child).all}`);
    process.kill(-child.pid!, "SIGKILL");
    const killed = await child;
    expect(killed.signal).to.equal("SIGKILL");
    expect(killed.all).to.include(`creating Python environment with uv ${UV_VERSION}`);

    const [dir] = (await execa("ls", [venvRoot])).stdout.split("\n").filter((n) => !n.endsWith(".lock"));
    const half = path.join(venvRoot, dir!);
    expect(existsSync(path.join(half, "bin", "python"))).to.equal(true); // a real half-built venv ...
    expect(existsSync(path.join(half, ".mlops-complete.json"))).to.equal(false); // ... without its marker

    await pkg.release();
    const progress = infoRecorder();
    const e = await withEnv(env, () => ensurePythonEnv({ repoRoot: repo, venvRoot, uvRoot: SHARED_UV_ROOT, progress }));
    expect(e.dir).to.equal(half);
    expect(progress.lines[0]).to.equal(`discarding an incomplete Python environment in ${half}`);
    expect(await imports(e.python)).to.equal("True");
    expect((await marker(e.dir)).installer).to.equal(`uv ${UV_VERSION}`);
  });
});
