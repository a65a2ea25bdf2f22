/**
 * The error kinds the CLI maps to exit codes (README, "exit | meaning") and the `code` each leaves in a failed
 * step of the release record (`mlops status <id> --json`: steps.<step>.error.code), which scripts read.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import {
  ApprovalError,
  ConfigError,
  DataError,
  DeploymentError,
  endedRelease,
  EnvironmentError,
  EXIT,
  GateRejectedError,
  InvalidStateError,
  MlopsError,
  NotEnoughDataError,
  NotFoundError,
  ReleaseLockedError,
  RolloutRolledBackError,
  TrainingError,
  UnitTestsFailedError,
  UsageError,
} from "../../../driver/core/errors.js";
import type { RolloutRecord } from "../../../driver/rollout/rolloutTypes.js";

const rollout: RolloutRecord = { from: "blue", to: "green", toVersion: "2", outcome: "rolled-back", steps: [], detail: "step 10% failed" };

/** class, its code in the release record, its exit code, and a word the README's exit-code row uses for it */
const kinds: Array<[MlopsError, string, number, RegExp]> = [
  [new UsageError("x"), "usage", 2, /usage/],
  [new ConfigError("x"), "config", 2, /config/],
  [new DataError("x"), "data", 2, /data/],
  [new InvalidStateError("x"), "invalid-state", 2, /wrong state/],
  [new GateRejectedError("x"), "gate-rejected", 3, /gate rejected/],
  [new UnitTestsFailedError("x"), "tests-failed", 4, /unit tests failed/],
  [new ApprovalError("x"), "approval", 5, /approval/],
  [new ReleaseLockedError("x"), "locked", 6, /lock/],
  [new NotFoundError("x"), "not-found", 7, /not found/],
  [new EnvironmentError("x"), "environment", 8, /not ready/],
  [new TrainingError("x"), "training", 1, /training/],
  [new DeploymentError("x"), "deployment", 1, /deployment/],
  [new RolloutRolledBackError("x", rollout), "deployment", 1, /deployment/],
  [new NotEnoughDataError("x"), "not-enough-data", 10, /not enough data/],
];

/** exit code -> meaning, from the README's table */
function readmeExitCodes(): Map<number, string> {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const rows = [...readme.matchAll(/^\| (\d+) +\| (.+?) +\|$/gm)];
  return new Map(rows.map((m) => [Number(m[1]), m[2]!]));
}

describe("typed errors: exit codes and record codes", () => {
  for (const [e, code, exit, readmeWord] of kinds) {
    it(`${e.constructor.name}: code '${code}', exit ${exit}, named after its class`, () => {
      expect(e).to.be.instanceOf(MlopsError).and.instanceOf(Error);
      expect(e.name).to.equal(e.constructor.name);
      expect(e.code).to.equal(code);
      expect(e.exitCode).to.equal(exit);
      expect(e.message).to.equal("x");
      expect(readmeExitCodes().get(exit), `README's row for exit ${exit}`).to.match(readmeWord);
    });
  }

  it("the README documents every exit code there is, and only those", () => {
    expect([...readmeExitCodes().keys()].sort()).to.deep.equal([0, ...Object.values(EXIT)].sort());
  });

  it("a rolled-back rollout error carries the record of its steps", () => {
    expect(new RolloutRolledBackError("x", rollout).rollout).to.equal(rollout);
  });

  it("endedRelease names the first release an error ended and leaves other errors as they are", () => {
    const e = new DeploymentError("x");
    expect(endedRelease("rel-20261127-100000-aaaa", e)).to.equal(e);
    endedRelease("rel-20261127-110000-bbbb", e);
    expect(e.releaseId).to.equal("rel-20261127-100000-aaaa");
    const plain = new Error("y");
    expect(endedRelease("rel-20261127-100000-aaaa", plain)).to.equal(plain);
    expect(plain).to.not.have.property("releaseId");
  });
});
