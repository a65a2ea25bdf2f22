/**
 * azure-pipelines.yml's daily schedule: schedules.cron as the YAML schema reference has it, and the Release stage's
 * mlops step run as the agent runs it (macros replaced, Build.Reason exported as BUILD_REASON: MS Learn, "Use
 * predefined variables") with a fake `npm` per outcome: on the schedule it monitors PROD with --retrain, otherwise it
 * releases; no drift and not enough data are green and end the run; drift hands the retrain release to the Prod stage;
 * the retrain's gate rejection is a recorded outcome; any other exit code is red.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, chmodSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { jobSteps, schemaProblems, stepScript, type Pipeline } from "./pipelineSchema.js";
import { tempDir } from "../../support/tempDirs.js";

const REPO = path.resolve(import.meta.dirname, "../../..");
const load = (): Pipeline => parse(readFileSync(path.join(REPO, "azure-pipelines.yml"), "utf8")) as Pipeline;

function fakeNpm(): string {
  const dir = tempDir("mlops-ado-npm-");
  writeFileSync(
    path.join(dir, "npm"),
    `#!/usr/bin/env bash
echo "$*" >>"$FAKE_LOG"
case "$*" in *doctor*) exit 0 ;; esac
case "$FAKE_MODE" in
  no-drift) printf '{"outcome":"no drift","release":null}\\n'; exit 0 ;;
  not-enough) printf '{"outcome":"not enough data","release":null}\\n'; exit 10 ;;
  drift)
    mkdir -p .mlops/reports && touch .mlops/reports/monitor-prod-20261202T051700Z.md .mlops/reports/monitor-prod-20261202T051700Z.html
    printf '{"outcome":"drift","release":{"id":"rel-20261202-0517-ab12","state":"awaiting-approval"}}\\n'; exit 9 ;;
  drift-no-release) printf '{"outcome":"drift","release":null}\\n'; exit 9 ;;
  released) printf '{"id":"rel-20261202-0900-ef56","state":"awaiting-approval"}\\n'; exit 0 ;;
  rejected) echo "mlops: rmse 70.1 is above the threshold 62 (a recorded outcome, see 'mlops status rel-20261202-0517-cd34')" >&2; exit 3 ;;
  *) echo "mlops: no Azure credential within 5 s" >&2; exit 8 ;;
esac
`,
  );
  chmodSync(path.join(dir, "npm"), 0o755);
  return dir;
}

/** Runs the Release stage's mlops step as the agent does; returns its exit code, calls and output variables. */
function releaseStep(mode: string, reason: string) {
  const step = jobSteps(load().stages.find((s) => s.stage === "Release")!.jobs[0]!).find((s) => "name" in s && s.name === "release")!;
  const dir = tempDir("mlops-ado-step-");
  const log = path.join(dir, "calls");
  writeFileSync(log, "");
  const file = path.join(dir, "step.sh");
  writeFileSync(file, stepScript(step)!.replace(/\$\(Agent\.TempDirectory\)/g, dir));
  const r = spawnSync("bash", [file], {
    encoding: "utf8",
    cwd: dir, // as the checkout: only the fake npm and node run there, and the report lands under its .mlops/
    env: { PATH: `${fakeNpm()}:${path.dirname(process.execPath)}:/usr/bin:/bin`, FAKE_MODE: mode, FAKE_LOG: log, BUILD_REASON: reason },
  });
  const outputs = Object.fromEntries([...r.stdout.matchAll(/##vso\[task\.setvariable variable=(\w+);isOutput=true\](.*)/g)].map((m) => [m[1]!, m[2]!]));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputs, calls: readFileSync(log, "utf8").trim().split("\n") };
}

describe("azure-pipelines.yml: the daily monitor of PROD (schedules)", () => {
  it("a daily cron on main, run even when the code did not change", () => {
    expect(load().schedules).to.deep.equal([
      { cron: "17 5 * * *", displayName: "daily drift check of PROD (mlops monitor --retrain)", branches: { include: ["main"] }, always: true },
    ]);
  });

  it("the schedule's keys are checked against schedules.cron: a misspelt key is reported", () => {
    const p = structuredClone(load()) as unknown as { schedules: Record<string, unknown>[] };
    p.schedules[0]!["allways"] = true;
    expect(schemaProblems(p).join("\n")).to.match(/schedules\.0: Unrecognized key: "allways"/);
  });

  it("on the schedule the step monitors PROD with --retrain; on a push (any other reason) it releases", () => {
    expect(releaseStep("no-drift", "Schedule").calls).to.deep.equal([
      "run -s mlops -- doctor --target azure --stack int",
      "run -s mlops -- monitor prod --target azure --retrain --json",
    ]);
    const pushed = releaseStep("released", "IndividualCI");
    expect(pushed.calls.at(-1)).to.equal("run -s mlops -- release --target azure --json");
    expect(pushed.outputs).to.deep.equal({ releaseId: "rel-20261202-0900-ef56", outcome: "awaiting-approval" });
  });

  it("no drift and not enough data are green and end the run (the Prod stage is skipped); not enough data warns", () => {
    expect(releaseStep("no-drift", "Schedule")).to.deep.include({ status: 0, outputs: { outcome: "no-drift" } });
    const r = releaseStep("not-enough", "Schedule");
    expect(r).to.deep.include({ status: 0, outputs: { outcome: "not-enough-data" } });
    expect(r.stdout).to.contain("##vso[task.logissue type=warning]monitor: too few collected requests of PROD to judge");
  });

  it("drift with the retrain release awaiting approval is green and hands that release to the Prod stage", () => {
    const r = releaseStep("drift", "Schedule");
    expect(r.status, r.stderr).to.equal(0);
    expect(r.outputs).to.deep.equal({ releaseId: "rel-20261202-0517-ab12", outcome: "awaiting-approval" });
    expect(r.stdout).to.contain("##vso[task.logissue type=warning]monitor: drift on PROD; a release was started to retrain");
    // the report is kept as the run's artifact
    const uploads = [...r.stdout.matchAll(/##vso\[artifact\.upload containerfolder=monitor-report;artifactname=monitor-report\](.*)/g)].map((m) =>
      path.basename(m[1]!),
    );
    expect(uploads).to.deep.equal(["monitor-prod-20261202T051700Z.html", "monitor-prod-20261202T051700Z.md"]);
  });

  it("drift without a started release, and a monitor error, are red with their exit codes; the gate's rejection is a recorded outcome", () => {
    expect(releaseStep("drift-no-release", "Schedule").status).to.equal(9);
    const broken = releaseStep("broken", "Schedule");
    expect(broken.status).to.equal(8);
    expect(broken.outputs.outcome).to.equal(undefined);
    expect(releaseStep("rejected", "Schedule")).to.deep.include({ status: 0 });
    expect(releaseStep("rejected", "Schedule").outputs.outcome).to.equal("rejected");
  });
});
