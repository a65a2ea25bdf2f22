/**
 * No silent downgrade on the azure target: what PROD serves comes from the azure adapters (the prod stack's
 * serving config and endpoint traffic, EnvironmentsPort.describe), and promote refuses an approved release older
 * than it, and reports a rolled-back release truthfully. Contract test against the loopback Azure fakes.
 */
import { expect } from "chai";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { InvalidStateError } from "../../../../driver/core/errors.js";
import { rollbackStack } from "../../../../driver/rollout/rollbackStack.js";
import { azureMachine } from "../support/cliAndTarget.js";
import { FakeAzure } from "../support/fakeAzure.js";
import { FakeStackUpdater, RecordingProgress, tempRepo } from "../support/harness.js";

describe("azure target: no silent downgrade (contract test against the loopback Azure fakes)", function () {
  this.timeout(180_000);
  let fake: FakeAzure;
  let repo: ReturnType<typeof tempRepo>;
  beforeEach(async () => {
    fake = await new FakeAzure().start();
    fake.endpointKeys.set("int", "int-key").set("prod", "prod-key");
    repo = tempRepo();
    // a short staged rollout (one observed step) keeps the three promotes fast
    const file = path.join(repo.root, "mlops.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace(/steps: \[10, 50, 100\]/, "steps: [50, 100]")
        .replace(/observeSeconds: 5 /, "observeSeconds: 1 "),
    );
  });
  afterEach(async () => {
    await fake.stop();
    repo.cleanup();
  });

  const prodDeployments = () => {
    const file = parse(readFileSync(path.join(repo.root, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, { deployments: object }> };
    return JSON.stringify(file.config["mlops:serving"]!.deployments);
  };
  const changeCode = (n: number) => appendFileSync(path.join(repo.root, "ml", "train.py"), `\n# change ${n}\n`);

  async function refused(p: Promise<unknown>): Promise<Error> {
    try {
      await p;
    } catch (e) {
      return e as Error;
    }
    throw new Error("expected a refusal");
  }

  it("contract test: an approved v2 may not take PROD back from v3; after a rollback to v1 promote of v3 says PROD serves v1, and v2 may go", async () => {
    // every training is a little better than the one before (the gate wants the champion beaten), with its own model
    let jobs = 0;
    fake.jobScript = () => {
      jobs += 1;
      return {
        statuses: ["Running", "Completed"],
        metrics: { rmse: 55 - jobs, mae: 44 - jobs, r2: 0.45 + jobs / 100 },
        modelBytes: Buffer.from(`model ${jobs}`),
      };
    };
    const updater = new FakeStackUpdater(repo.root, fake);
    const { m, t } = await azureMachine(repo.root, fake, updater);
    const r1 = await m.start();
    await m.approve(r1.id, "alice@contoso.com");
    await m.promote(r1.id);
    changeCode(2);
    const r2 = await m.start();
    await m.approve(r2.id, "alice@contoso.com");
    changeCode(3);
    const r3 = await m.start();
    await m.approve(r3.id, "alice@contoso.com");
    await m.promote(r3.id);
    expect([r1, r2, r3].map((r) => r.model!.version)).to.deep.equal(["1", "2", "3"]);
    // what PROD serves, from the azure adapters (stack serving config + endpoint traffic)
    expect((await t.environments.describe("prod")).modelVersion).to.equal("3");

    const served = prodDeployments();
    const down = await refused(m.promote(r2.id));
    expect(down).to.be.instanceOf(InvalidStateError);
    expect(down.message).to.equal(
      `release ${r2.id} would take prod from diabetes-ridge v3 back to v2 (champion: v3): promote does not downgrade; to go back to an earlier version run 'mlops rollback prod', or promote it anyway with --allow-downgrade`,
    );
    expect(prodDeployments()).to.equal(served); // no stack edit, no up

    await rollbackStack(t, "prod", new RecordingProgress());
    expect((await t.environments.describe("prod")).modelVersion).to.equal("1");
    const gone = await refused(m.promote(r3.id));
    expect(gone).to.be.instanceOf(InvalidStateError);
    expect(gone.message).to.match(new RegExp(`^release ${r3.id} put diabetes-ridge v3 into prod, but prod serves v1 now \\(rolled back at `));

    // PROD serves v1 now: v2 is newer, no downgrade
    expect((await m.promote(r2.id)).state).to.equal("released");
    expect((await t.environments.describe("prod")).modelVersion).to.equal("2");
  });
});
