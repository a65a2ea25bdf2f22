import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Every file a newcomer or a pipeline copies the CLI's command from, and the CLI's own hints. */
const SOURCES = [
  "README.md",
  ...readdirSync(path.join(REPO, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
  "azure-pipelines.yml",
  ...readdirSync(path.join(REPO, ".github/workflows")).map((f) => `.github/workflows/${f}`),
  "driver/cli.ts",
  "driver/cli/render.ts",
];

describe("the documented mlops command never asks the public registry for a package", () => {
  // `npx mlops` outside this repository (or before `npm ci`) resolves `mlops` on the public registry and, with
  // no TTY or in CI, installs and runs whatever is published under that name; `--no`/`--offline` still query
  // the registry or run a cached copy. `npm run mlops -- ...` only ever runs this repository's own script.
  for (const file of SOURCES) {
    it(`${file} says 'npm run mlops --', never 'npx mlops'`, () => {
      const text = readFileSync(path.join(REPO, file), "utf8");
      const lines = text.split("\n").flatMap((l, i) => (/\bnpx\s+(--?[\w-]+\s+)*mlops\b/.test(l) ? [`${file}:${i + 1}: ${l.trim()}`] : []));
      expect(lines).to.deep.equal([]);
    });
  }

  it("the package.json script the docs name exists and runs the CLI", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.mlops).to.match(/driver\/cli\.ts|bin\/mlops\.js/);
  });
});
