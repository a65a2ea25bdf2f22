/**
 * Contract tests of Azure batch scoring against the loopback fake (support/fakeBatch.ts over support/fakeAzure.ts):
 * the input uploaded to the default datastore, the batch endpoint read through ARM, the invoke POSTed to its scoring
 * URI as azure-ai-ml's batch_endpoints.invoke sends it (body and headers judged equal to what the SDK itself builds,
 * through the SDK oracle), the job polled to Completed, predictions.csv split into the output and its errors file.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { EXIT, MlopsError } from "../../../../driver/core/errors.js";
import type { RegisteredModel } from "../../../../driver/core/release.js";
import { AzureBatchScoring, batchInvokeBody } from "../../../../driver/targets/azure/azureBatchScoring.js";
import { BATCH_DEPLOYMENT_NAME, BATCH_OUTPUT_FILE } from "../../../../components/batchEndpoint.js";
import { BATCH_DEPLOYMENT, BATCH_OUTPUT_FILE as DRIVER_OUTPUT_FILE } from "../../../../driver/targets/azure/azureBatchScoring.js";
import { useSdkOracle } from "../../../oracle/sdkOracle.js";
import { AML_TOKEN, FakeCredential } from "../support/fakeCredential.js";
import { FakeAzure } from "../support/fakeAzure.js";
import { installFakeBatch, type FakeBatch } from "../support/fakeBatch.js";
import { clientsFor, outputsFor, RecordingProgress } from "../support/harness.js";
import { tempDir } from "../../../support/tempDirs.js";

const MODEL: RegisteredModel = { name: "diabetes-ridge", version: "3", digest: "d".repeat(64), runId: "r", metrics: {}, tags: {} };
const HEADER = "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6";
const ROW = "59,2,32.1,101,157,93.2,38,4,4.8598,87";

describe("azure batch scoring (contract tests against a loopback ARM / Blob / batch endpoint server)", function () {
  this.timeout(60_000);
  const oracle = useSdkOracle();
  let fake: FakeAzure;
  let batch: FakeBatch;
  let dir: string;
  beforeEach(async () => {
    fake = await new FakeAzure().start();
    batch = installFakeBatch(fake);
    dir = tempDir("azbatch-");
  });
  afterEach(async () => {
    await fake.stop();
  });

  const scoring = (served = "3") =>
    new AzureBatchScoring({
      workspace: async (s) => clientsFor(fake, s),
      outputs: async (s) => ({ ...outputsFor(fake, s), batchEndpointName: `bep-mlops-${s}-0000`, batchModelVersion: served }),
      credential: new FakeCredential(),
      poll: { minMs: 1, maxMs: 5, sleep: async () => undefined },
    });

  it("contract test: uploads the input, invokes the batch endpoint as azure-ai-ml does, polls the job and splits predictions.csv into output and errors", async () => {
    const input = path.join(dir, "rows.csv");
    writeFileSync(input, [HEADER, ROW, "1,2,3", ROW].join("\n") + "\n");
    const output = path.join(dir, "out.csv");
    const progress = new RecordingProgress();
    const summary = await scoring().scoreBatch({ model: MODEL, stack: "int", input, output, errors: `${output}.errors.csv` }, () => undefined, progress);

    expect(summary).to.include({ files: 1, rows: 3, scored: 2, failed: 1 });
    expect(readFileSync(output, "utf8")).to.equal("file,row,prediction\nrows.csv,1,150.5\nrows.csv,3,150.5\n");
    expect(readFileSync(`${output}.errors.csv`, "utf8")).to.equal('file,row,column,reason\nrows.csv,2,,"expected 10 numbers, got ""1,2,3"""\n');
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).to.deep.equal([]);

    const upload = fake.requests.find((q) => q.method === "PUT" && q.path.includes("/mlops-batch/") && q.path.endsWith("/input/rows.csv"));
    expect(upload, "input uploaded to the default datastore").to.not.equal(undefined);
    expect(fake.armCalls()).to.include("GET /batchEndpoints/bep-mlops-int-0000");
    expect(batch.invokes).to.have.length(1);
    const invoke = batch.invokes[0]!;
    expect(invoke.headers.authorization).to.equal(AML_TOKEN);
    expect(invoke.headers["azureml-model-deployment"]).to.equal("main");
    expect(invoke.headers["repeatability_request-id"]).to.match(/^[0-9a-f-]{36}$/);
    const sent = invoke.body as ReturnType<typeof batchInvokeBody>;
    const jobName = sent.properties.name;
    expect(fake.armCalls().filter((c) => c === `GET /jobs/${jobName}`).length).to.be.greaterThan(1);

    // the SDK oracle: the body and headers batch_endpoints.invoke builds for the same inputs, outputs and job name
    const sdk = await oracle().sdkBatchInvoke({
      inputs: { input: { type: "uri_folder", path: sent.properties.inputData.input!.uri } },
      outputs: { score: { type: "uri_folder", path: sent.properties.outputData.score!.uri } },
      jobName,
      deploymentName: "main",
    });
    expect(sent).to.deep.equal(sdk.body);
    for (const [k, v] of Object.entries(sdk.headers)) expect(invoke.headers[k.toLowerCase()], k).to.contain(v);
    expect(invoke.headers).to.have.property(sdk.repeatabilityHeader.toLowerCase());
  });

  it("contract test: the driver's deployment name and output file are the ones the stacks declare", () => {
    expect(BATCH_DEPLOYMENT).to.equal(BATCH_DEPLOYMENT_NAME);
    expect(DRIVER_OUTPUT_FILE).to.equal(BATCH_OUTPUT_FILE);
  });

  it("contract test: a version other than the one the stack's batch deployment serves is refused before anything is uploaded (exit 7)", async () => {
    const input = path.join(dir, "rows.csv");
    writeFileSync(input, [HEADER, ROW].join("\n") + "\n");
    const err = await scoring("2")
      .scoreBatch(
        { model: MODEL, stack: "int", input, output: path.join(dir, "o.csv"), errors: path.join(dir, "o.csv.errors.csv") },
        () => undefined,
        new RecordingProgress(),
      )
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(MlopsError);
    expect((err as MlopsError).exitCode).to.equal(EXIT.notFound);
    expect((err as Error).message).to.contain("batch deployment serves diabetes-ridge v2, not v3");
    expect(fake.requests.filter((q) => q.method === "PUT")).to.have.length(0);
  });

  it("contract test: a failed batch job is a one-line DeploymentError with its studio link, and no output is written", async () => {
    fake.jobScript = () => ({ statuses: ["Queued", "Running", "Failed"] });
    const input = path.join(dir, "rows.csv");
    writeFileSync(input, [HEADER, ROW].join("\n") + "\n");
    const output = path.join(dir, "o.csv");
    const err = await scoring()
      .scoreBatch({ model: MODEL, stack: "int", input, output, errors: `${output}.errors.csv` }, () => undefined, new RecordingProgress())
      .catch((e: unknown) => e);
    expect((err as MlopsError).exitCode).to.equal(EXIT.failure);
    expect((err as Error).message).to.match(/^batch job mlops-batch-\S+ ended Failed; logs: https:\/\/ml\.azure\.com\/runs\//);
    expect(readdirSync(dir)).to.deep.equal(["rows.csv"]);
  });
});
