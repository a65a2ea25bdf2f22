/**
 * SDK-judged contract tests for the two calls every release rests on: the training job and the model
 * registration from its output (and its copy into PROD). The body the driver sends is compared field by field with
 * the body Microsoft's azure-ai-ml builds for the same intent:
 *   command(code=, command=, environment=, compute=, outputs={"training": Output(type="uri_folder", path=, mode="rw_mount")})
 *     submitted the way jobs.create_or_update does (to_rest_job_object)
 *   Model(path="azureml://jobs/<job>/outputs/training/paths/model", type="custom_model") the way models.create_or_update does
 */
import { expect } from "chai";
import type { SourceFingerprint } from "../../../../driver/core/release.js";
import { AzureRegistry } from "../../../../driver/targets/azure/azureRegistry.js";
import { AzureTraining } from "../../../../driver/targets/azure/azureTraining.js";
import { copyModelToWorkspace, prodModelPrefix } from "../../../../driver/targets/azure/modelCopy.js";
import { jobModelUri, jobOutputPath } from "../../../../driver/targets/azure/trainingJob.js";
import { unknownTo2022 } from "../../../oracle/apiVersion2022.js";
import { useSdkOracle } from "../../../oracle/sdkOracle.js";
import { FakeAzure, type RecordedRequest } from "../support/fakeAzure.js";
import { clientsFor, outputsFor, RecordingProgress, settingsFor, tempRepo } from "../support/harness.js";

const source: SourceFingerprint = { gitCommit: "c0ffee".padEnd(40, "0"), gitDirty: false, codeDigest: "code1", dataDigest: "data1", envDigest: "env1" };

/** Pick dotted paths out of a body (missing -> undefined). */
function pick(body: unknown, paths: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of paths) {
    let node: unknown = body;
    for (const k of p.split(".")) node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[k] : undefined;
    out[p] = node;
  }
  return out;
}

describe("the training job and the model registration, compared with what the azure-ai-ml SDK builds for the same intent (SDK-judged contract tests)", function () {
  this.timeout(60_000);
  const oracle = useSdkOracle();
  let fake: FakeAzure;
  let repo: ReturnType<typeof tempRepo>;
  let jobName: string;
  const put = (re: RegExp): RecordedRequest => {
    const q = fake.requests.filter((r) => r.method === "PUT" && re.test(r.path)).pop();
    if (!q) throw new Error(`no PUT matching ${re}`);
    return q;
  };

  before(async () => {
    fake = await new FakeAzure().start();
    repo = tempRepo();
    const int = clientsFor(fake, "int");
    const training = await new AzureTraining({ repoRoot: repo.root, experimentName: "diabetes", ws: int, settings: settingsFor(fake) }).train(
      source,
      new RecordingProgress(),
    );
    jobName = training.runId;
    const model = await new AzureRegistry(int).register("diabetes-ridge", training, { "mlops.run_id": jobName });
    expect(await copyModelToWorkspace(model, int, clientsFor(fake, "prod"), new RecordingProgress())).to.equal("copied");
  });
  after(async () => {
    await fake?.stop();
    repo?.cleanup();
  });

  it("SDK-judged contract test: the training job PUT matches the SDK's command job for the same code, command, environment, compute and output (type, uri, mode, job type)", async () => {
    const ws = outputsFor(fake, "int").workspaceId;
    const codeId = put(/\/codes\/mlops-training-code\/versions\//).path;
    const environmentId = put(/\/environments\/mlops-training-env\/versions\//).path;
    const ours = put(/\/jobs\/mlops-train-/).body as { properties: Record<string, unknown> };
    const sdk = await oracle().sdkCommandJob({
      code: codeId,
      command: "python pipeline.py --data data.txt --out ${{outputs.training}}",
      environment: environmentId,
      compute: `${ws}/computes/${outputsFor(fake, "int").trainingComputeName}`,
      outputs: { training: { type: "uri_folder", path: `azureml://datastores/workspaceblobstore/paths/${jobOutputPath(jobName)}`, mode: "rw_mount" } },
      experimentName: "diabetes",
    });
    const fields = [
      "properties.jobType",
      "properties.codeId",
      "properties.command",
      "properties.environmentId",
      "properties.computeId",
      "properties.experimentName",
      "properties.outputs.training.jobOutputType",
      "properties.outputs.training.uri",
      "properties.outputs.training.mode",
    ];
    expect(pick(ours, fields)).to.deep.equal(pick(sdk, fields));
    expect(Object.keys(ours.properties.outputs as object)).to.deep.equal(Object.keys(sdk.properties.outputs as object));
    // the SDK's own body speaks only fields the driver's 2022-10-01 client defines too, so the comparison is like for like
    expect(unknownTo2022("job", sdk)).to.deep.equal([]);
  });

  it("SDK-judged contract test: the model registration from the job output matches the SDK's Model(path=azureml://jobs/<job>/outputs/training/paths/model, type=custom_model): same modelUri, modelType, no flavors", async () => {
    const ours = put(/\/workspaces\/ws-int\/models\/diabetes-ridge\/versions\/1$/).body as { properties: Record<string, unknown> };
    const sdk = await oracle().sdkModelVersion({
      name: "diabetes-ridge",
      version: "1",
      path: `azureml://jobs/${jobName}/outputs/training/paths/model`,
      type: "custom_model",
    });
    const fields = ["properties.modelUri", "properties.modelType", "properties.flavors"];
    expect(pick(ours, fields)).to.deep.equal(pick(sdk, fields));
    expect(ours.properties.modelUri).to.equal(jobModelUri(jobName));
    // lineage the SDK entity does not write back but both API versions define (see test/oracle/verdicts.ts)
    expect(ours.properties.jobName).to.equal(jobName);
    expect(unknownTo2022("modelVersion", ours)).to.deep.equal([]);
  });

  it("SDK-judged contract test: the model copied into PROD is registered as the SDK registers Model(path=azureml://datastores/<default>/paths/<copy>, type=custom_model) in the PROD workspace (long datastore URI, modelType)", async () => {
    const ours = put(/\/workspaces\/ws-prod\/models\/diabetes-ridge\/versions\/1$/).body as { properties: Record<string, unknown> };
    const prod = outputsFor(fake, "prod");
    const sdk = await oracle().sdkModelVersion({
      name: "diabetes-ridge",
      version: "1",
      path: `azureml://datastores/workspaceblobstore/paths/${prodModelPrefix("diabetes-ridge", "1").replace(/\/$/, "")}`,
      type: "custom_model",
      workspace: {
        subscription: String(prod.workspaceId).split("/")[2]!,
        resourceGroup: String(prod.resourceGroupName),
        workspace: String(prod.workspaceName),
      },
    });
    const fields = ["properties.modelUri", "properties.modelType", "properties.flavors"];
    expect(pick(ours, fields)).to.deep.equal(pick(sdk, fields));
  });
});
