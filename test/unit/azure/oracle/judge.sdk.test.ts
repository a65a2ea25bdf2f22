/**
 * The SDK oracle itself: it must be able to fail. Known-bad bodies are reported for what is wrong with them, and
 * the reading of its verdicts (test/oracle/verdicts.ts) keeps every tolerance narrow.
 */
import { expect } from "chai";
import { fields2022, unknownTo2022, VERSION_DIFFERENCES } from "../../../oracle/apiVersion2022.js";
import { useSdkOracle, type Verdict } from "../../../oracle/sdkOracle.js";
import { sdkDefects } from "../../../oracle/verdicts.js";

const WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";
const job = (properties: Record<string, unknown>) => ({
  properties: {
    jobType: "Command",
    codeId: `${WS}/codes/c/versions/1`,
    command: "python pipeline.py",
    environmentId: `${WS}/environments/e/versions/1`,
    computeId: `${WS}/computes/train-cluster`,
    ...properties,
  },
});

describe("the azure-ai-ml SDK oracle (test/oracle/judge.py) reports what is wrong with a body", function () {
  this.timeout(30_000);
  const oracle = useSdkOracle();

  it("runs the pinned azure-ai-ml 1.35.2 with REST models of api-version 2025-12-01", async () => {
    expect(await oracle().versions()).to.deep.include({ azureAiMl: "1.35.2", apiVersion: "2025-12-01" });
  });

  it("accepts a well-formed command job and gives every field back after the entity round trip", async () => {
    const v = await oracle().judge(
      "job",
      job({ outputs: { training: { jobOutputType: "uri_folder", mode: "ReadWriteMount", uri: "azureml://datastores/workspaceblobstore/paths/x/" } } }),
      { id: `${WS}/jobs/j1`, name: "j1" },
    );
    expect(v).to.deep.include({ unknownKeys: [], unknownValues: [], typeErrors: [], missingRequired: [], readOnlySent: [], conversionError: null, lost: [] });
    expect(v.entity).to.equal("Command");
  });

  it("names a key the REST model does not define, at any depth", async () => {
    const v = await oracle().judge(
      "modelVersion",
      { properties: { modelType: "custom_model", modelPath: "azureml://x", tags: {} } },
      { id: `${WS}/models/m/versions/1`, name: "1" },
    );
    expect(v.unknownKeys).to.deep.equal(["properties.modelPath"]);
    const j = await oracle().judge("job", job({ outputs: { training: { jobOutputType: "uri_folder", mode: "ReadWriteMount", path: "azureml://x" } } }));
    expect(j.unknownKeys).to.deep.equal(["properties.outputs.training.path"]);
  });

  it("names enum and discriminator values the REST model does not list", async () => {
    const v = await oracle().judge("job", job({ outputs: { training: { jobOutputType: "uri_folder", mode: "ReadWriteMnt" } } }));
    expect(v.unknownValues.join("\n")).to.match(/^properties\.outputs\.training\.mode='ReadWriteMnt' \(known: .*ReadWriteMount/);
    const c = await oracle().judge("compute", { properties: { computeType: "Kubernetess", properties: {} } });
    expect(c.unknownValues.join("\n")).to.match(/properties\.computeType='Kubernetess' \(known: .*Kubernetes/);
  });

  it("names values of the wrong JSON type, including durations that are not ISO-8601", async () => {
    const v = await oracle().judge("compute", {
      location: "westeurope",
      properties: {
        computeType: "AmlCompute",
        properties: { vmSize: "STANDARD_D3_V2", scaleSettings: { maxNodeCount: "4", minNodeCount: 0, nodeIdleTimeBeforeScaleDown: "120s" } },
      },
    });
    expect(v.typeErrors).to.deep.equal([
      'properties.properties.scaleSettings.maxNodeCount: "4" is not an integer',
      'properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown: "120s" is not an ISO-8601 duration',
    ]);
  });

  it("names required fields that are missing and read-only fields that are sent", async () => {
    const body = job({ status: "Running" });
    delete (body.properties as Record<string, unknown>).command;
    const v = await oracle().judge("job", body);
    expect(v.missingRequired).to.deep.equal(["properties.command"]);
    expect(v.readOnlySent).to.deep.equal(["properties.status"]);
  });

  it("reports the SDK's conversion error, and the keys it had to add for the SDK's known None-check quirks", async () => {
    const code = await oracle().judge("codeVersion", { properties: { codeUri: "https://a.blob.core.windows.net/c/p" } }); // no ARM id: the SDK cannot name it
    expect(code.conversionError).to.match(/^AttributeError: .*asset_name/);
    const dep = await oracle().judge(
      "onlineDeployment",
      {
        location: "westeurope",
        sku: { name: "Default", capacity: 1 },
        properties: { endpointComputeType: "Kubernetes", model: `${WS}/models/m/versions/1`, instanceType: "small", scaleSettings: { scaleType: "Default" } },
      },
      { id: `${WS}/onlineEndpoints/ep/deployments/blue`, name: "blue" },
    );
    expect(dep.shims).to.deep.equal(["properties.containerResourceRequirements"]);
    expect(dep.entity).to.equal("KubernetesOnlineDeployment");
  });

  it("lists the fields an entity round trip loses; only the written-down SDK entity limits are tolerated, and only where they hold", async () => {
    const body = { properties: { modelType: "custom_model", modelUri: "azureml://jobs/j/outputs/training/paths/model", jobName: "j" } };
    const v = await oracle().judge("modelVersion", body, { id: `${WS}/models/m/versions/1`, name: "1" });
    expect(v.lost).to.deep.equal([{ path: "properties.jobName", sent: "j", back: null }]);
    expect(sdkDefects(v, body, { apiVersion: "2022-10-01", request: true })).to.deep.equal([]);

    const synthetic = (sent: string): Verdict => ({
      ...v,
      kind: "onlineDeployment",
      lost: [{ path: "properties.requestSettings.maxQueueWait", sent, back: null }],
    });
    expect(sdkDefects(synthetic("PT0.5S"), {}, { apiVersion: "2025-12-01", request: true })).to.deep.equal([]);
    expect(sdkDefects(synthetic("PT2S"), {}, { apiVersion: "2025-12-01", request: true })).to.deep.equal([
      'lost in the SDK round trip: properties.requestSettings.maxQueueWait sent "PT2S", back null',
    ]);
  });

  it("tells a key the driver's api-version 2022-10-01 does not define from one both versions define", async () => {
    const body = { properties: { modelType: "custom_model", modelUri: "azureml://x", jobName: "j", stage: "Production" } };
    expect(unknownTo2022("modelVersion", body)).to.deep.equal(["properties.stage"]);
    const v = await oracle().judge("modelVersion", body, { id: `${WS}/models/m/versions/1`, name: "1" });
    expect(v.unknownKeys).to.deep.equal([]); // 2025-12-01 knows stage
    expect(sdkDefects(v, body, { apiVersion: "2022-10-01", request: true })).to.include(
      "key properties.stage is not defined by api-version 2022-10-01, which the driver sends",
    );
    expect(sdkDefects(v, body, { apiVersion: "2025-12-01", request: true })).to.deep.equal([]);
  });

  it("the fields api-version 2022-10-01 (driver) and 2025-12-01 (SDK) define differently are the written-down ones (test/oracle/apiVersion2022.ts)", async () => {
    const classes = Object.keys(VERSION_DIFFERENCES);
    const f2025 = await oracle().fields(classes);
    const actual = Object.fromEntries(
      classes.map((c) => {
        const a = fields2022(c);
        const b = f2025[c]!;
        return [c, { only2022: a.filter((x) => !b.includes(x)), only2025: b.filter((x) => !a.includes(x)) }];
      }),
    );
    expect(actual).to.deep.equal(VERSION_DIFFERENCES);
  });
});
