import { mkdtemp, mkdir, writeFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { fingerprintSource, listTestInputFiles, testsDigest } from "../../../driver/source/fingerprint.js";

const CONDA = "name: t\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - mlflow==3.17.2\n";

describe("tests digest (the test step's 'tests' reuse input)", () => {
  let root: string;
  const write = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  };
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "mlops-testsdigest-"));
    await write("ml/train.py", "print('train')\n");
    await write("ml/score.py", "print('score')\n");
    await write("ml/lib/features.py", "X = 1\n");
    await write("ml/data.txt", "a,b\n1,2\n");
    await write("ml/conda.yml", CONDA);
    await write("ml/azure-training-conda.yml", CONDA);
    await write("ml/pytest.ini", "[pytest]\naddopts = -q\n");
    await write("ml/smoke.json", '{"data": [[1, 2]]}\n');
    await write("ml/tests/conftest.py", "import pytest\n");
    await write("ml/tests/test_x.py", "def test_x(): pass\n");
    await write("ml/tests/fixtures/bad.txt", "a\n");
    await write("ml/tests/__pycache__/test_x.cpython-311.pyc", "junk");
    await write("ml/.pytest_cache/v/cache/lastfailed", "{}");
    await write("ml/mlruns/0/meta.yaml", "x: 1\n");
    await write("ml/mlflow.db", "sqlite");
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("covers ml/tests/** and ml/'s files that no other digest covers; not code, data, conda files, caches or run outputs", async () => {
    expect(await listTestInputFiles(root)).to.deep.equal([
      "ml/pytest.ini",
      "ml/smoke.json",
      "ml/tests/conftest.py",
      "ml/tests/fixtures/bad.txt",
      "ml/tests/test_x.py",
    ]);
  });

  for (const rel of ["ml/tests/test_x.py", "ml/tests/conftest.py", "ml/tests/fixtures/bad.txt", "ml/pytest.ini", "ml/smoke.json"]) {
    it(`changes when ${rel} changes`, async () => {
      const before = await testsDigest(root);
      await write(rel, "changed\n");
      expect(await testsDigest(root)).to.not.equal(before);
    });
  }

  it("changes when a test file is added, and not when a cache or a run output changes", async () => {
    const before = await testsDigest(root);
    await write("ml/tests/__pycache__/other.pyc", "more junk");
    await write("ml/mlruns/1/meta.yaml", "y: 2\n");
    await write("ml/mlflow.db", "sqlite, later");
    expect(await testsDigest(root)).to.equal(before);
    await write("ml/tests/test_new.py", "def test_new(): pass\n");
    expect(await testsDigest(root)).to.not.equal(before);
  });

  it("is part of the source fingerprint", async () => {
    expect((await fingerprintSource(root)).testsDigest).to.equal(await testsDigest(root));
  });
});
