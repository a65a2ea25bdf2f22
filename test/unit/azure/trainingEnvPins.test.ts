import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { exactPins, parseCondaEnv, pinDrift } from "../../../driver/source/condaEnv.js";
import { AZURE_TRAINING_CONDA_FILE, CONDA_FILE, condaFileDigest, envDigest } from "../../../driver/source/fingerprint.js";
import { ensureEnvironmentAsset } from "../../../driver/targets/azure/environmentAsset.js";
import { clientsFor, REPO, fakeAzureEachTest } from "./support/harness.js";

const read = (root: string, rel: string) => ({ file: rel, env: parseCondaEnv(readFileSync(path.join(root, rel), "utf8"), rel) });

describe("Azure training job environment (ml/azure-training-conda.yml) against the scoring environment (ml/conda.yml)", () => {
  it("pins Python, scikit-learn, numpy and joblib exactly as ml/conda.yml does, and every package both pin alike", () => {
    expect(pinDrift(read(REPO, CONDA_FILE), read(REPO, AZURE_TRAINING_CONDA_FILE))).to.deep.equal([]);
  });

  it("has azureml-mlflow and an MLflow it accepts (azureml-mlflow 1.62.0.post6 requires mlflow-skinny<=3.15.0)", () => {
    const pins = exactPins(read(REPO, AZURE_TRAINING_CONDA_FILE).env);
    expect(pins.get("azureml-mlflow")).to.equal("1.62.0.post6");
    const mlflow = pins.get("mlflow-skinny") ?? pins.get("mlflow");
    expect(mlflow, "an exact MLflow pin").to.be.a("string");
    const [maj, min, patch] = mlflow!.split(".").map(Number);
    expect(maj! * 1e6 + min! * 1e3 + patch!).to.be.at.most(3_015_000);
  });

  it("keeps ml/conda.yml lean: no azureml-mlflow in the scoring environment", () => {
    expect(exactPins(read(REPO, CONDA_FILE).env).has("azureml-mlflow")).to.equal(false);
  });

  it("reports a drift of a shared pin, of Python, and a model-deciding package left unpinned", () => {
    const a = {
      file: "a.yml",
      env: parseCondaEnv("dependencies: [python=3.11, pip, {pip: [scikit-learn==1.9.1, numpy==2.4.6, joblib==1.6.0, pandas==3.1.1]}]"),
    };
    const b = { file: "b.yml", env: parseCondaEnv("dependencies: [python=3.12, pip, {pip: [scikit-learn==1.9.0, numpy>=2, joblib==1.6.0, pandas==3.1.1]}]") };
    expect(pinDrift(a, b)).to.deep.equal([
      "python: a.yml has 3.11, b.yml has 3.12",
      "numpy: not pinned with == in b.yml",
      "scikit-learn: a.yml pins 1.9.1, b.yml pins 1.9.0",
    ]);
  });

  describe("wiring", function () {
    this.timeout(20_000);
    const az = fakeAzureEachTest();

    it("registers the job file (with azureml-mlflow), not ml/conda.yml, as the training environment asset", async () => {
      const env = await ensureEnvironmentAsset(az.repo.root, clientsFor(az.fake, "int"), "example.invalid/base:1");
      const put = az.fake.requests.find((q) => q.method === "PUT" && q.path.includes("/environments/mlops-training-env/versions/"))!;
      const condaFile = (put.body as { properties: { condaFile: string } }).properties.condaFile;
      expect(condaFile).to.equal(readFileSync(path.join(REPO, AZURE_TRAINING_CONDA_FILE), "utf8"));
      expect(condaFile).to.contain("azureml-mlflow==");
      expect(env.created).to.equal(true);
    });

    it("a new job file gives a new environment version and a new env digest (the Azure reuse key) but keeps the local venv; ml/conda.yml edits change the digest too", async () => {
      const ws = clientsFor(az.fake, "int");
      const [v1, d1] = [(await ensureEnvironmentAsset(az.repo.root, ws, "img:1")).version, await envDigest(az.repo.root)];
      const localVenvKey = await condaFileDigest(az.repo.root, CONDA_FILE);
      const jobFile = path.join(az.repo.root, AZURE_TRAINING_CONDA_FILE);
      await writeFile(jobFile, `${readFileSync(jobFile, "utf8")}      - pytz==2025.2\n`);
      const [v2, d2] = [(await ensureEnvironmentAsset(az.repo.root, ws, "img:1")).version, await envDigest(az.repo.root)];
      expect(v2).to.not.equal(v1);
      expect(d2).to.not.equal(d1);
      expect(await condaFileDigest(az.repo.root, CONDA_FILE), "the local venv is keyed by ml/conda.yml alone").to.equal(localVenvKey);
      const scoring = path.join(az.repo.root, CONDA_FILE);
      await writeFile(scoring, `${readFileSync(scoring, "utf8")}\n`);
      expect(await envDigest(az.repo.root)).to.not.equal(d2);
    });

    it("refuses to submit with a job file whose scikit-learn drifted from ml/conda.yml, naming both files and versions", async () => {
      const jobFile = path.join(az.repo.root, AZURE_TRAINING_CONDA_FILE);
      await writeFile(jobFile, readFileSync(jobFile, "utf8").replace("scikit-learn==1.9.1", "scikit-learn==1.8.0"));
      const err = (await ensureEnvironmentAsset(az.repo.root, clientsFor(az.fake, "int"), "img:1").catch((e: Error) => e)) as Error;
      expect(err.name).to.equal("ConfigError");
      expect(err.message).to.equal(
        "ml/azure-training-conda.yml and ml/conda.yml must pin what decides the model alike: scikit-learn: ml/conda.yml pins 1.9.1, ml/azure-training-conda.yml pins 1.8.0; align the two files",
      );
      expect(az.fake.requests.filter((q) => q.method === "PUT")).to.have.length(0);
    });
  });
});
