/**
 * The data collector's blob layout and record format (driver/targets/azure/collectorRecords.ts, sources there) turned
 * into score.py's local sink lines: what is kept, how the time and version are set, and what is passed through for
 * ml/monitor.py to count as a bad line.
 */
import { expect } from "chai";
import { modelPrefix } from "../../../driver/targets/azure/azureMonitorSource.js";
import { BEFORE_UPDATE, parseCollectedBlobName, toSinkLine } from "../../../driver/targets/azure/collectorRecords.js";
import { jobModelBlob, jobModelUri } from "../../../driver/targets/azure/trainingJob.js";

/** A record as MS Learn shows one (two requests batched into one line), for collection `model_inputs`. */
const RECORD = {
  specversion: "1.0",
  id: "720b8867-54a2-4876-80eb-1fd6a8975770",
  source: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep/deployments/blue",
  type: "azureml.inference.model_inputs",
  datacontenttype: "application/json",
  time: "2026-12-02T05:16:25Z",
  data: [
    { age: 59, bmi: 32.1 },
    { age: 48, bmi: 21.6 },
  ],
  contentrange: "bytes 0-6794/6795",
  correlationid: "c-1",
  xrequestid: "c-1",
  modelversion: "default",
  collectdatatype: "pandas.core.frame.DataFrame",
  agent: "azureml-ai-monitoring/1.0.0",
};
const T = Date.parse("2026-12-02T05:16:25Z") / 1000;

describe("data collector records (driver/targets/azure/collectorRecords.ts)", () => {
  it("parses the documented blob layout: endpoint, deployment, collection and the hour folder (UTC)", () => {
    expect(parseCollectedBlobName("modelDataCollector/mlops-prod-ep/blue/model_inputs/2026/12/02/05/0a1b.jsonl")).to.deep.equal({
      endpoint: "mlops-prod-ep",
      deployment: "blue",
      collection: "model_inputs",
      hourStart: Date.UTC(2026, 11, 2, 5) / 1000,
    });
    for (const other of [
      "modelDataCollector/ep/blue/model_inputs/2026/12/02/0a1b.jsonl", // a day folder: not the hourly layout
      "modelDataCollector/ep/blue/model_inputs/2026/12/02/05/0a1b.json",
      "mlops/releases/rel-20261202-051600-ab12.json",
    ])
      expect(parseCollectedBlobName(other), other).to.equal(undefined);
  });

  it("turns a record into a sink line: the collection, epoch seconds, the served version for the SDK's 'default', every row of a batched line", () => {
    const line = JSON.parse(toSinkLine(JSON.stringify(RECORD), "model_inputs", { modelVersion: "3", since: T - 60 }));
    expect(line).to.deep.equal({ collection: "model_inputs", id: RECORD.id, correlationid: "c-1", time: T, modelversion: "3", data: RECORD.data });
  });

  it("a record written before the deployment's last update belongs to what it served then; a recorded version is kept", () => {
    expect(JSON.parse(toSinkLine(JSON.stringify(RECORD), "model_inputs", { modelVersion: "3", since: T + 1 })).modelversion).to.equal(BEFORE_UPDATE);
    expect(JSON.parse(toSinkLine(JSON.stringify({ ...RECORD, modelversion: "2" }), "model_inputs", { modelVersion: "3", since: 0 })).modelversion).to.equal(
      "2",
    );
  });

  it("anything else comes back unchanged, for ml/monitor.py to count as a bad line of its blob", () => {
    const who = { modelVersion: "3", since: 0 };
    for (const raw of [
      "not json",
      JSON.stringify(RECORD).slice(0, 90), // truncated
      "[1,2]",
      JSON.stringify({ ...RECORD, time: "yesterday" }),
      JSON.stringify({ ...RECORD, data: { age: 59 } }),
      JSON.stringify({ ...RECORD, type: "azureml.inference.model_outputs" }), // in another collection's folder
    ])
      expect(toSinkLine(raw, "model_inputs", who), raw).to.equal(raw);
  });

  it("finds a served model's files in the default datastore from its modelUri: PROD's copy, INT's job output; another datastore is refused", () => {
    expect(
      modelPrefix("azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/workspaceblobstore/paths/mlops/models/m/3/model", "workspaceblobstore"),
    ).to.equal("mlops/models/m/3/model/");
    expect(`${modelPrefix(jobModelUri("job-1"), "workspaceblobstore")}model.pkl`).to.equal(jobModelBlob("job-1"));
    expect(modelPrefix("azureml://datastores/other/paths/x/model", "workspaceblobstore")).to.equal(undefined);
    expect(modelPrefix("https://example.invalid/model", "workspaceblobstore")).to.equal(undefined);
  });
});
