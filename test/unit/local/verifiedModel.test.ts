/**
 * A model file is verified before it is put in place: a download whose model.pkl does not hash to the registered
 * digest is refused, leaves nothing on disk (no model directory, no partial download), and never replaces the
 * verified files a stack already serves from.
 */
import { sha256Hex } from "../../../config/sha256.js";
import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { DeploymentError } from "../../../driver/core/errors.js";
import type { MlflowClient } from "../../../driver/mlflow/mlflowClient.js";
import type { MlflowModelVersion } from "../../../driver/mlflow/types.js";
import { localPaths } from "../../../driver/targets/local/localPaths.js";
import { fetchVerifiedModel } from "../../../driver/targets/local/verifiedModel.js";
import type { RegisteredModel } from "../../../driver/core/release.js";
import { silentProgress } from "../../support/fakeTarget.js";
import { tempDir } from "../../support/tempDirs.js";

const GOOD = "the registered pickle";

/** The two MLflow calls a fetch makes; `served` is what the registry hands out for model.pkl. */
function registryServing(served: string): MlflowClient {
  const mv: MlflowModelVersion = { name: "m", version: "3", source: "file:///elsewhere/model", tags: [] };
  return {
    getModelVersion: async () => mv,
    downloadModelVersionArtifact: async () => Buffer.from(served),
  } as unknown as MlflowClient;
}

const model: RegisteredModel = { name: "m", version: "3", digest: sha256Hex(GOOD), runId: "r", metrics: {}, tags: {} };

async function repo() {
  const root = tempDir("mlops-verify-");
  return localPaths(root, path.join(root, "venvs"));
}

async function refused(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the tampered model to be refused");
}

describe("local target: a model is verified before it is put in place", () => {
  it("a tampered model.pkl is refused and nothing of it is left on disk", async () => {
    const paths = await repo();
    const err = await refused(fetchVerifiedModel({ paths, client: registryServing("tampered"), stack: "int", model, progress: silentProgress }));
    expect(err).to.be.instanceOf(DeploymentError);
    expect(err.message).to.match(/hashes to .* not the registered .*; refusing to deploy it to int/);
    const dir = paths.modelDir("int", "m", "3");
    expect(existsSync(dir), "the rejected model directory").to.equal(false);
    const parent = path.dirname(dir);
    expect(existsSync(parent) ? await readdir(parent) : [], "partial downloads").to.deep.equal([]);
  });

  it("a tampered download never replaces the verified files a stack already serves from", async () => {
    const paths = await repo();
    const dir = paths.modelDir("prod", "m", "3");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "model.pkl"), GOOD);
    await refused(fetchVerifiedModel({ paths, client: registryServing("tampered"), stack: "prod", model, progress: silentProgress }));
    expect(await readFile(path.join(dir, "model.pkl"), "utf8")).to.equal(GOOD);
    expect(await readdir(path.dirname(dir))).to.deep.equal(["model"]);
  });

  it("a model that hashes to its digest is put in place", async () => {
    const paths = await repo();
    const dir = await fetchVerifiedModel({ paths, client: registryServing(GOOD), stack: "int", model, progress: silentProgress });
    expect(dir).to.equal(paths.modelDir("int", "m", "3"));
    expect(await readFile(path.join(dir, "model.pkl"), "utf8")).to.equal(GOOD);
  });
});
