import { expect } from "chai";
import { buildTrainingJob, jobModelBlob, jobModelUri, newJobName } from "../../../driver/targets/azure/trainingJob.js";
import { mlflowBaseUrl, workspaceFromOutputs } from "../../../driver/targets/azure/azureSettings.js";

describe("azure training job body and workspace coordinates", () => {
  const source = { gitCommit: "abcdef0123456789", gitDirty: true, codeDigest: "c", dataDigest: "d", envDigest: "e" };

  it("builds one Command job running pipeline.py with a datastore output folder named after the job and the digests as tags", () => {
    const body = buildTrainingJob({
      jobName: "mlops-train-x",
      experimentName: "diabetes",
      codeId: "CODE",
      environmentId: "ENV",
      computeId: "COMPUTE",
      datastoreName: "workspaceblobstore",
      source,
    });
    expect(body).to.deep.equal({
      properties: {
        jobType: "Command",
        displayName: "mlops training abcdef012345 (dirty)",
        description: "extract -> train -> eval (ml/pipeline.py), submitted by the mlops release driver",
        experimentName: "diabetes",
        codeId: "CODE",
        environmentId: "ENV",
        computeId: "COMPUTE",
        command: "python pipeline.py --data data.txt --out ${{outputs.training}}",
        environmentVariables: { MLFLOW_EXPERIMENT_NAME: "diabetes", PYTHONUNBUFFERED: "1" },
        outputs: {
          training: { jobOutputType: "uri_folder", mode: "ReadWriteMount", uri: "azureml://datastores/workspaceblobstore/paths/mlops/jobs/mlops-train-x/" },
        },
        tags: {
          "mlops.code_digest": "c",
          "mlops.data_digest": "d",
          "mlops.env_digest": "e",
          "mlops.git_commit": "abcdef0123456789",
          "mlops.git_dirty": "true",
        },
      },
    });
    expect(jobModelBlob("mlops-train-x")).to.equal("mlops/jobs/mlops-train-x/model/model.pkl");
    expect(jobModelUri("mlops-train-x")).to.equal("azureml://jobs/mlops-train-x/outputs/training/paths/model");
    expect(newJobName(new Date("2026-11-27T09:30:00Z"), "ab12")).to.equal("mlops-train-20261127-093000-ab12");
  });

  it("turns the workspace's azureml:// tracking URI into the https base URL of the MLflow REST API", () => {
    expect(
      mlflowBaseUrl(
        "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w",
      ),
    ).to.equal("https://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w");
  });

  it("reads subscription, resource group and workspace from the stack outputs and names the missing output otherwise", () => {
    const ref = workspaceFromOutputs("int", {
      workspaceId: "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/w1",
      trainingComputeName: "train-cluster",
      traffic: { blue: 100 },
      trafficConverged: true,
    });
    expect(ref).to.deep.include({
      subscriptionId: "s1",
      resourceGroup: "rg1",
      workspace: "w1",
      trainingCompute: "train-cluster",
      traffic: { blue: 100 },
      trafficConverged: true,
    });
    expect(() => workspaceFromOutputs("prod", {})).to.throw(/^stack 'prod' has no workspaceId output .*run 'pulumi up --stack prod' once/);
  });
});
