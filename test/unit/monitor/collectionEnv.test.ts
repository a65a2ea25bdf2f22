/** The MLOPS_COLLECT_* environment the local target gives score.py, from mlops.yaml monitor.collection. */
import { expect } from "chai";
import path from "node:path";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { collectionEnv, deploymentOf } from "../../../driver/monitor/collectionEnv.js";

const base = { model: { name: "m" }, gate: { metrics: { rmse: { greater_is_better: false } } } };
const collection = (c: Record<string, unknown>) => parseReleaseConfig({ ...base, monitor: { collection: c } }).monitor.collection;

describe("collection environment of a local inference server", () => {
  it("points score.py at .mlops/collected/<stack>/<deployment>/ with the sampling, rotation, retention and served version", () => {
    const env = collectionEnv({
      stateDir: "/r/.mlops",
      stack: "prod",
      logName: "prod-green",
      modelDir: "/r/.mlops/stacks/prod/models/diabetes-ridge/12/model",
      collection: collection({ samplingPercent: 25, maxFileMB: 2, retentionDays: 3 }),
    });
    expect(env).to.deep.equal({
      MLOPS_COLLECT_DIR: path.join("/r/.mlops", "collected", "prod", "green"),
      MLOPS_COLLECT_SAMPLE_PERCENT: "25",
      MLOPS_COLLECT_MAX_FILE_BYTES: String(2 * 1024 * 1024),
      MLOPS_COLLECT_RETENTION_DAYS: "3",
      MLOPS_MODEL_VERSION: "12",
    });
  });

  it("sets nothing when collection is disabled (score.py then collects nothing)", () => {
    expect(collectionEnv({ stateDir: "/r", stack: "int", logName: "int", modelDir: "/m/1/model", collection: collection({ enabled: false }) })).to.deep.equal(
      {},
    );
  });

  it("names INT's deployment int and PROD's by its slot", () => {
    expect([deploymentOf("int", "int"), deploymentOf("prod", "prod-blue"), deploymentOf("prod", "prod-green")]).to.deep.equal(["int", "blue", "green"]);
  });
});
