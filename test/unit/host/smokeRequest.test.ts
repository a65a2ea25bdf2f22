import { expect } from "chai";
import { checkPredictions, type SmokeRequest } from "../../../driver/host/smokeRequest.js";
import { inferenceServerArgs } from "../../../driver/targets/local/inferenceServer.js";

const smoke: SmokeRequest = { payload: { data: [[1], [2]] }, prediction_range: [10, 100] };

describe("smoke test checks", () => {
  it("accepts as many finite predictions as rows, inside the range", () => {
    expect(checkPredictions({ predictions: [10, 99.5] }, smoke)).to.equal(undefined);
    expect(checkPredictions([50, 60], smoke)).to.equal(undefined);
  });

  it("names what is wrong: count, non-finite, out of range, no array", () => {
    expect(checkPredictions({ predictions: [50] }, smoke)).to.equal("1 predictions for 2 rows");
    expect(checkPredictions({ predictions: [50, null] }, smoke)).to.match(/prediction 1 is null/);
    expect(checkPredictions({ predictions: [50, 101] }, smoke)).to.match(/outside \[10, 100\]/);
    expect(checkPredictions({ error: "x" }, smoke)).to.match(/no predictions array/);
  });

  it("starts azmlinfsrv with its own flags, one worker, through the loopback launcher", () => {
    const args = inferenceServerArgs("/r/ml/score.py", "/m", 5601);
    expect(args.slice(2)).to.deep.equal(["--entry_script", "/r/ml/score.py", "--model_dir", "/m", "--port", "5601", "--worker_count", "1"]);
    expect(args[1]).to.contain("DEFAULT_HOST = '127.0.0.1'");
  });
});
