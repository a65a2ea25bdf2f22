/**
 * The driver's two-`up` contract with the program's traffic rule (components/trafficPlan.ts): when the
 * serving decision re-versions a colour at weight 100 (INT's third release, a rollback to a version no
 * colour holds), the first `up` reports trafficConverged false and keeps the traffic on the colour that
 * serves, and applyServing runs the convergence `up` that moves it.
 */
import { expect } from "chai";
import { decideServing, type ServingConfig } from "../../../driver/pulumi/servingDecision.js";
import { applyServing } from "../../../driver/targets/azure/servingUpdate.js";
import { RecordingProgress } from "./support/harness.js";
import { MemoryStackUpdater } from "./support/memoryStackUpdater.js";

describe("serving update: a re-versioned colour takes its traffic on the convergence up", function () {
  it("INT's third release (blue v1 -> v3 at weight 100 while green v2 serves) takes two ups and ends on blue", async function () {
    const current: ServingConfig = { model: "m", deployments: { blue: { version: "1", weight: 0 }, green: { version: "2", weight: 100 } } };
    const decision = decideServing(current, "m", "3");
    expect(decision.serving.deployments).to.deep.equal({ blue: { version: "3", weight: 100 }, green: { version: "2", weight: 0 } });
    const updater = new MemoryStackUpdater(current);
    const progress = new RecordingProgress();
    const result = await applyServing(updater, "int", decision.serving, progress);
    expect(result).to.deep.equal({ ups: 2, traffic: { blue: 100 } });
    expect(progress.lines.filter((l) => l.startsWith("up int: traffic"))).to.deep.equal(['up int: traffic {"green":100}', 'up int: traffic {"blue":100}']);
  });

  it("a rollback to a version no colour holds also keeps the serving colour until the convergence up", async function () {
    const current: ServingConfig = { model: "m", deployments: { blue: { version: "3", weight: 0 }, green: { version: "4", weight: 100 } } };
    const updater = new MemoryStackUpdater(current);
    const progress = new RecordingProgress();
    const result = await applyServing(updater, "prod", decideServing(current, "m", "2").serving, progress);
    expect(result).to.deep.equal({ ups: 2, traffic: { blue: 100 } });
    expect(progress.lines.filter((l) => l.startsWith("up prod: traffic"))[0]).to.equal('up prod: traffic {"green":100}');
  });

  it("moving the weights to a colour that keeps its version needs one up", async function () {
    const current: ServingConfig = { model: "m", deployments: { blue: { version: "3", weight: 0 }, green: { version: "4", weight: 100 } } };
    const result = await applyServing(new MemoryStackUpdater(current), "prod", decideServing(current, "m", "3").serving, new RecordingProgress());
    expect(result).to.deep.equal({ ups: 1, traffic: { blue: 100 } });
  });
});
