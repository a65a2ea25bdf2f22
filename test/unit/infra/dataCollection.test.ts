/**
 * Data collection on the online deployments (Pulumi mocks): every deployment carries a data collector enabling the
 * three collections ml/score.py logs, at mlops.yaml's sampling rate; none when collection is off.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { buildForTest, stackFileConfig } from "./harness.js";
import { dataCollectionFromMlopsYaml, dataCollectorOf } from "../../../components/dataCollection.js";
import { REPO_ROOT } from "../../../program.js";
import { tempDir } from "../../support/tempDirs.js";

const DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment";
const blueGreen = { blue: { version: "3", weight: 100 }, green: { version: "4", weight: 0 } };
const serving = (stack: string) => ({ "mlops:serving": { ...(stackFileConfig(stack)["mlops:serving"] as Record<string, unknown>), deployments: blueGreen } });

function mlopsYaml(monitor: string): string {
  const dir = tempDir("mlops-dc-");
  writeFileSync(join(dir, "mlops.yaml"), `model: {name: m}\ngate: {metrics: {rmse: {greater_is_better: false}}}\n${monitor}\n`);
  return dir;
}

describe("data collection of the online deployments (components/dataCollection.ts)", function () {
  this.timeout(60_000);

  it("every deployment enables model_inputs, model_outputs and mlops_requests at mlops.yaml's sampling rate, rolled hourly", async () => {
    const built = await buildForTest("prod", { configOverrides: serving("prod"), dataCollection: { samplingRate: 0.25 } });
    const deployments = built.ofType(DEPLOYMENT);
    expect(deployments).to.have.length(2);
    for (const d of deployments) {
      expect(d.inputs.properties.dataCollector).to.deep.equal({
        collections: {
          model_inputs: { dataCollectionMode: "Enabled", samplingRate: 0.25 },
          model_outputs: { dataCollectionMode: "Enabled", samplingRate: 0.25 },
          mlops_requests: { dataCollectionMode: "Enabled", samplingRate: 0.25 },
        },
        rollingRate: "Hour",
      });
    }
  });

  it("by default the deployments collect as the repository's mlops.yaml says (100%)", async () => {
    const built = await buildForTest("int", { configOverrides: serving("int") });
    expect(dataCollectionFromMlopsYaml(REPO_ROOT)).to.deep.equal({ samplingRate: 1 });
    for (const d of built.ofType(DEPLOYMENT)) expect(d.inputs.properties.dataCollector.collections.model_inputs.samplingRate).to.equal(1);
  });

  it("no data collector when collection is off (null, disabled or 0%)", async () => {
    const built = await buildForTest("int", { configOverrides: serving("int"), dataCollection: null });
    for (const d of built.ofType(DEPLOYMENT)) expect(d.inputs.properties).to.not.have.property("dataCollector");
    expect(dataCollectionFromMlopsYaml(mlopsYaml("monitor: {collection: {enabled: false}}"))).to.equal(undefined);
    expect(dataCollectionFromMlopsYaml(mlopsYaml("monitor: {collection: {samplingPercent: 0}}"))).to.equal(undefined);
    expect(dataCollectorOf(undefined)).to.equal(undefined);
  });

  it("a bad monitor section of mlops.yaml stops the program with one line naming the key", () => {
    expect(() => dataCollectionFromMlopsYaml(mlopsYaml("monitor: {collection: {samplingPercent: 150}}"))).to.throw(
      /^mlops.yaml: monitor.collection.samplingPercent: must be a whole percentage from 0 to 100; fix the value and run again$/,
    );
  });
});
