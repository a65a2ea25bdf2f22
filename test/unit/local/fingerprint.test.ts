import { mkdtemp, mkdir, writeFile, rm, cp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { codeDigest, dataDigest, envDigest, fingerprintSource, listCodeFiles } from "../../../driver/source/fingerprint.js";

const CONDA = "name: t\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - mlflow==3.17.2\n";

async function makeRepo(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "mlops-fp-"));
  await mkdir(path.join(root, "ml", "tests"), { recursive: true });
  await mkdir(path.join(root, "ml", "__pycache__"), { recursive: true });
  await writeFile(path.join(root, "ml", "train.py"), "print('train')\n");
  await writeFile(path.join(root, "ml", "score.py"), "print('score')\n");
  await writeFile(path.join(root, "ml", "tests", "test_x.py"), "def test_x(): pass\n");
  await writeFile(path.join(root, "ml", "__pycache__", "train.cpython-311.pyc"), "junk");
  await writeFile(path.join(root, "ml", "data.txt"), "a,b\n1,2\n");
  await writeFile(path.join(root, "ml", "conda.yml"), CONDA);
  return root;
}

describe("source fingerprint", () => {
  let root: string;
  beforeEach(async () => {
    root = await makeRepo();
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("lists ml/**/*.py without the tests and caches, as sorted POSIX paths", async () => {
    expect(await listCodeFiles(root)).to.deep.equal(["ml/score.py", "ml/train.py"]);
  });

  it("is the same for a copy of the repo in another directory (no absolute paths, no mtimes)", async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), "mlops-fp-copy-"));
    try {
      await cp(root, other, { recursive: true });
      const a = await fingerprintSource(root);
      const b = await fingerprintSource(other);
      expect(b).to.deep.equal(a);
      expect(a.gitCommit).to.equal("unknown");
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("does not change when a test file or a cache changes, and changes when code does", async () => {
    const before = await codeDigest(root);
    await writeFile(path.join(root, "ml", "tests", "test_x.py"), "def test_y(): pass\n");
    await writeFile(path.join(root, "ml", "__pycache__", "x.py"), "x = 1\n");
    expect(await codeDigest(root)).to.equal(before);
    await writeFile(path.join(root, "ml", "train.py"), "print('train v2')\n");
    expect(await codeDigest(root)).to.not.equal(before);
  });

  it("treats CRLF and LF checkouts alike", async () => {
    const [code, data, env] = [await codeDigest(root), await dataDigest(root), await envDigest(root)];
    await writeFile(path.join(root, "ml", "train.py"), "print('train')\r\n");
    await writeFile(path.join(root, "ml", "data.txt"), "a,b\r\n1,2\r\n");
    await writeFile(path.join(root, "ml", "conda.yml"), CONDA.replace(/\n/g, "\r\n"));
    expect([await codeDigest(root), await dataDigest(root), await envDigest(root)]).to.deep.equal([code, data, env]);
  });

  it("does not let a moved file boundary collide (path and content are length-prefixed)", async () => {
    const before = await codeDigest(root);
    await rm(path.join(root, "ml", "score.py"));
    await writeFile(path.join(root, "ml", "train.py"), "print('train')\nml/score.pyprint('score')\n");
    expect(await codeDigest(root)).to.not.equal(before);
  });

  it("changes the env digest when the pins change", async () => {
    const before = await envDigest(root);
    await writeFile(path.join(root, "ml", "conda.yml"), CONDA.replace("3.17.2", "3.17.3"));
    expect(await envDigest(root)).to.not.equal(before);
  });

  it("names the missing file when ml/data.txt is absent", async () => {
    await rm(path.join(root, "ml", "data.txt"));
    const err = await dataDigest(root).catch((e: Error) => e);
    expect((err as Error).message).to.match(/^ml\/data\.txt not found/);
  });
});
