/**
 * The README's first command, `npm ci`, as a user with an older system Node runs it: clean output (no screen of
 * engine warnings), errors still printed, and the engine check that matters (against the Node the project runs
 * on) made and enforced here. Uses npm's own dry run from the lockfile, offline (no download, ~10 s).
 */
import { cp, rm } from "node:fs/promises";
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { expect } from "chai";
import { tempDir } from "../../support/tempDirs.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** the project's own Node (the `node` devDependency), which runs every npm/npx script */
const PROJECT_NODE = path.join(REPO, "node_modules", ".bin", "node");

/** The first `name` on PATH outside any node_modules/.bin (which npm/npx scripts put first): the user's own. */
function systemBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "" || dir.split(path.sep).includes("node_modules")) continue;
    const p = path.join(dir, name);
    if (existsSync(p)) return realpathSync(p);
  }
  return undefined;
}

/** This process's environment without what npm adds for a script it runs (npm_config_*, npm_lifecycle_*, ...). */
const userEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

describe("npm ci on a fresh clone (npm's dry run from package-lock.json, offline)", function () {
  this.timeout(120_000);
  let dir: string;
  const npmCli = systemBinary("npm");
  const systemNode = systemBinary("node");
  before(async function () {
    if (!npmCli || !systemNode) this.skip(); // npm ci could not have been run here without them
    dir = tempDir("mlops-npmci-");
    for (const f of ["package.json", "package-lock.json", ".npmrc"]) if (existsSync(path.join(REPO, f))) await cp(path.join(REPO, f), path.join(dir, f));
  });
  after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  const npmCi = (node: string, cwd: string, ...extra: string[]) =>
    execa(node, [npmCli!, "ci", "--dry-run", "--offline", "--no-audit", "--no-fund", ...extra], {
      cwd,
      reject: false,
      all: true,
      stdin: "ignore",
      // as a user's shell runs it: without the npm_config_* settings of the npm script running this test
      // (`npm run -s` would pass loglevel=silent down and hide npm's output)
      extendEnv: false,
      env: { ...userEnv(), PATH: path.dirname(node) + path.delimiter + (process.env.PATH ?? "") },
    });

  it("prints no warnings with the system's Node, whatever its version, and ends with npm's summary", async () => {
    const r = await npmCi(systemNode!, dir);
    expect(r.exitCode).to.equal(0, r.all);
    const lines = r.all.split("\n").filter((l) => l.trim() !== "" && !/^add /.test(l));
    expect(lines.filter((l) => /^npm warn/.test(l))).to.deep.equal([]);
    expect(lines.at(-1)).to.match(/^added \d+ packages in /);
  });

  it("still prints npm's errors and fails (no package-lock.json)", async () => {
    const bare = tempDir("mlops-npmci-nolock-");
    try {
      for (const f of ["package.json", ".npmrc"]) if (existsSync(path.join(REPO, f))) await cp(path.join(REPO, f), path.join(bare, f));
      const r = await npmCi(systemNode!, bare);
      expect(r.exitCode).to.not.equal(0);
      expect(r.all).to.match(/^npm error .*package-lock\.json/m);
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });

  it("every package's engines accept the Node the project runs on (the check npm warns about, made with that Node)", async () => {
    const r = await npmCi(realpathSync(PROJECT_NODE), dir, "--loglevel=warn", "--engine-strict");
    expect(r.exitCode).to.equal(
      0,
      r.all
        .split("\n")
        .filter((l) => /^npm (warn|error)/.test(l))
        .join("\n"),
    );
    expect(r.all).to.not.include("EBADENGINE");
  });
});
