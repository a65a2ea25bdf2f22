/**
 * release.yml's daily schedule: the release job's step runs `mlops monitor prod --target azure --retrain` when the
 * event is `schedule` (and a release otherwise), run here as the runner runs it with a fake `npm` per outcome:
 * no drift and not enough data are green and end the run; drift hands the release --retrain started to the prod job
 * (outcome awaiting-approval); the retrain's gate rejection is the recorded outcome a pushed release has; a monitor
 * error is red with its exit code.
 */
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fakeBin, runStep, step, workflow } from "./workflowSupport.js";
import { tempDir } from "../../support/tempDirs.js";

const release = () => workflow("release.yml");

/** `npm run -s mlops -- monitor ... --json` with the exit code and output of each outcome. */
const fakeNpm = fakeBin({
  npm: `
echo "$*" >>"$FAKE_LOG"
echo "[mlops] monitor: prod serves diabetes-ridge v3" >&2
case "$FAKE_MODE" in
  no-drift) printf '{"outcome":"no drift","reasons":[],"release":null}\\n'; exit 0 ;;
  not-enough) printf '{"outcome":"not enough data","reasons":["only 12 rows were collected"],"release":null}\\n'; exit 10 ;;
  drift) printf '{"outcome":"drift","reasons":["bmi: PSI 0.41"],"release":{"id":"rel-20261202-0517-ab12","state":"awaiting-approval"}}\\n'; exit 9 ;;
  drift-no-release) printf '{"outcome":"drift","reasons":["bmi: PSI 0.41"],"release":null}\\n'; exit 9 ;;
  rejected)
    echo "mlops: rmse 70.1 is above the threshold 62; the model was not registered (a recorded outcome, see 'mlops status rel-20261202-0517-cd34')" >&2
    exit 3 ;;
  *) echo "mlops: no Azure credential within 5 s" >&2; exit 8 ;;
esac`,
});

function scheduled(mode: string, event = "schedule") {
  const log = path.join(tempDir("mlops-npm-"), "calls");
  writeFileSync(log, "");
  const r = runStep(step(release().jobs.release!, "release").run!, {
    PATH: `${fakeNpm}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
    FAKE_MODE: mode,
    FAKE_LOG: log,
    GITHUB_EVENT_NAME: event,
  });
  return { ...r, calls: readFileSync(log, "utf8").trim().split("\n") };
}

describe("release.yml: the daily monitor of PROD (schedule)", () => {
  it("is scheduled daily by cron (UTC), besides pushes to main and manual runs", () => {
    const on = release().on as unknown as Record<string, unknown>;
    expect(on.schedule).to.deep.equal([{ cron: "17 5 * * *" }]);
    expect(Object.keys(on)).to.include.members(["push", "workflow_dispatch"]);
  });

  it("on the schedule the step runs mlops monitor prod --target azure --retrain --json, and on a push a release", () => {
    expect(scheduled("no-drift").calls).to.deep.equal(["run -s mlops -- monitor prod --target azure --retrain --json"]);
    expect(scheduled("no-drift", "push").calls).to.deep.equal(["run -s mlops -- release --target azure --json"]);
  });

  it("the scheduled run keeps the monitor report as an artifact, whatever the outcome", () => {
    const keep = step(release().jobs.release!, "keep the monitor report");
    expect(keep.if).to.equal("always() && github.event_name == 'schedule'");
    expect(keep.uses).to.match(/^actions\/upload-artifact@v\d+$/);
    expect(keep.with).to.deep.include({ name: "monitor-report", path: ".mlops/reports/monitor-prod-*", "if-no-files-found": "ignore" });
  });

  it("no drift: green, outcome no-drift, no release for the prod job", () => {
    const r = scheduled("no-drift");
    expect(r.status, r.stderr).to.equal(0);
    expect(r.outputs).to.deep.equal({ outcome: "no-drift" });
    expect(r.summary).to.contain("### Monitor prod: no-drift");
  });

  it("not enough data: green with a warning, outcome not-enough-data", () => {
    const r = scheduled("not-enough");
    expect(r.status, r.stderr).to.equal(0);
    expect(r.outputs).to.deep.equal({ outcome: "not-enough-data" });
    expect(r.stdout).to.contain("::warning title=monitor: not enough data::");
    expect(r.summary).to.contain("- only 12 rows were collected");
  });

  it("drift (exit 9) with the retrain release awaiting approval: green, a warning, and the release handed to the prod job", () => {
    const r = scheduled("drift");
    expect(r.status, r.stderr).to.equal(0);
    expect(r.outputs).to.deep.equal({ "release-id": "rel-20261202-0517-ab12", outcome: "awaiting-approval" });
    expect(r.stdout).to.contain("::warning title=monitor: drift on prod::");
    expect(r.summary).to.contain("### Monitor prod: drift, release started (--retrain)").and.contain("- bmi: PSI 0.41");
  });

  it("drift without a started release is red (exit 9): --retrain promised one", () => {
    const r = scheduled("drift-no-release");
    expect(r.status).to.equal(9);
    expect(r.outputs.outcome).to.equal(undefined);
  });

  it("the retrain release rejected by the gate (exit 3) is the recorded outcome a pushed release has: green, outcome rejected", () => {
    const r = scheduled("rejected");
    expect(r.status, r.stderr).to.equal(0);
    expect(r.outputs).to.deep.equal({ "release-id": "rel-20261202-0517-cd34", outcome: "rejected" });
  });

  it("a monitor error stays red with its exit code, and no outcome", () => {
    const r = scheduled("broken");
    expect(r.status).to.equal(8);
    expect(r.outputs.outcome).to.equal(undefined);
  });
});
