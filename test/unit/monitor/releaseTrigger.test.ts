/** A release started by `mlops monitor --retrain` carries the trigger (what drifted, by how much) on its record. */
import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import type { ReleaseTrigger } from "../../../driver/core/release.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { renderRelease } from "../../../driver/cli/render.js";
import { buildReportModel } from "../../../driver/report/reportSections.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";

const config = parseReleaseConfig({ model: { name: "diabetes-ridge" }, gate: { metrics: { rmse: { greater_is_better: false, threshold: 60 } } } });
const trigger: ReleaseTrigger = {
  kind: "monitor",
  at: "2026-12-02T06:00:00.000Z",
  stack: "prod",
  modelVersion: "3",
  reasons: ["bmi: PSI 1.234 >= 0.2, KS p=1e-30 < 0.01 (mean 26.4 -> 34.4)", "s5: PSI 0.31 >= 0.2"],
  report: ".mlops/reports/monitor-prod-20261202T060000.md",
};

describe("release trigger (monitor --retrain)", () => {
  it("records the trigger and a 'triggered' event on the release, persisted from the first save", async () => {
    const t = new FakeTarget();
    const m = new ReleaseStateMachine({ target: t, config, progress: silentProgress, newId: () => "rel-20261202-060000-abcd" });
    const r = await m.start(trigger);
    expect(r.state).to.equal("awaiting-approval");
    expect((await t.store.load(r.id)).trigger).to.deep.equal(trigger);
    expect(r.events.find((e) => e.event === "triggered")).to.deep.include({
      event: "triggered",
      detail: `by monitor on prod v3: ${trigger.reasons[0]}; ${trigger.reasons[1]}`,
    });
    expect(renderRelease(r)).to.include(`  trigger   monitor: drift on prod v3: ${trigger.reasons[0]}`);
    expect(buildReportModel(r).summary).to.deep.include([
      "Started by",
      `mlops monitor --retrain: drift on prod v3: ${trigger.reasons[0]}; ${trigger.reasons[1]}`,
    ]);
  });

  it("a release started by hand has no trigger", async () => {
    const t = new FakeTarget();
    const r = await new ReleaseStateMachine({ target: t, config, progress: silentProgress, newId: () => "rel-20261202-060001-abcd" }).start();
    expect(r.trigger).to.equal(undefined);
    expect(r.events.some((e) => e.event === "triggered")).to.equal(false);
  });
});
