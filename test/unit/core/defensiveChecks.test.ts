/**
 * The release core's defensive checks, each against a fake that disagrees in exactly the way the check exists
 * for. Each test is named after its check and fails when that check is removed: nothing earlier stops the case
 * (checked by deleting each check, see docs/mutation-testing.md).
 */
import { expect } from "chai";
import { parseReleaseConfig, type ReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { ApprovalError, DeploymentError } from "../../../driver/core/errors.js";
import { FakeTarget } from "../../support/fakeTarget.js";
import { machineFactory, rejection } from "../../support/coreHarness.js";

const config: ReleaseConfig = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});

const machine = machineFactory(config, "20261202-0400");

const rejects = rejection;

const other = "9".repeat(64);

describe("release core defensive checks, against fakes that disagree", () => {
  describe("register: the registered version's digest must be the run's sha256", () => {
    it("a registry that hands back another artifact hash stops the release at register, before any deploy", async () => {
      const t = new FakeTarget();
      t.registryDigest = other;
      const err = await rejects(machine(t).start());
      expect(err).to.be.instanceOf(DeploymentError);
      expect(err.message).to.equal("registered diabetes-ridge v1 has digest 999999999999 but run run1 produced sha100000000; refusing to continue");
      const [r] = await t.store.list();
      expect(r!.state).to.equal("failed");
      expect(r!.model).to.equal(undefined);
      expect(t.counts["deploy-int"]).to.equal(undefined);
      expect(t.serving.int).to.equal(undefined);
    });
  });

  describe("deploy: the stack must report the version and digest it was handed", () => {
    it("a stack that reports another digest after the deploy fails deploy-int; nothing is validated", async () => {
      const t = new FakeTarget();
      t.deployedReports.int = { digest: other };
      const err = await rejects(machine(t).start());
      expect(err).to.be.instanceOf(DeploymentError);
      expect(err.message).to.equal("int reports version 1 (999999999999) after deploying v1; check 'mlops status'");
      const [r] = await t.store.list();
      expect(r!.steps["deploy-int"].status).to.equal("failed");
      expect(r!.deployments.int).to.equal(undefined);
      expect(t.counts["validate-int"]).to.equal(undefined);
    });

    it("a stack that reports another version after the deploy fails deploy-int", async () => {
      const t = new FakeTarget();
      t.deployedReports.int = { version: "7" };
      const err = await rejects(machine(t).start());
      expect(err.message).to.match(/^int reports version 7 \(sha100000000\) after deploying v1/);
      expect(t.counts["validate-int"]).to.equal(undefined);
    });

    it("a PROD stack that reports another digest fails deploy-prod and the champion stays", async () => {
      const t = new FakeTarget();
      const m = machine(t);
      const r = await m.start();
      await m.approve(r.id, "alice");
      t.deployedReports.prod = { digest: other };
      const err = await rejects(m.promote(r.id));
      expect(err.message).to.match(/^prod reports version 1 \(999999999999\) after deploying v1/);
      expect(t.counts["validate-prod"]).to.equal(undefined);
      expect(t.championVersion).to.equal(undefined);
    });
  });

  describe("approve: the INT validation must be of this release's model version and digest", () => {
    it("a healthy INT validation of another version cannot be approved", async () => {
      const t = new FakeTarget();
      t.validationOf.int = { version: "9" };
      const m = machine(t);
      const r = await m.start();
      expect(r.state).to.equal("awaiting-approval");
      const err = await rejects(m.approve(r.id, "alice"));
      expect(err).to.be.instanceOf(ApprovalError);
      expect(err.message).to.equal(`release ${r.id} has no passing INT validation for its model; it cannot be approved`);
      expect(t.recordedApprovals).to.have.length(0);
      expect((await t.store.load(r.id)).state).to.equal("awaiting-approval");
    });

    it("a healthy INT validation of another digest cannot be approved", async () => {
      const t = new FakeTarget();
      t.validationOf.int = { digest: other };
      const m = machine(t);
      const r = await m.start();
      expect((await rejects(m.approve(r.id, "alice"))).message).to.match(/has no passing INT validation for its model/);
      expect(t.recordedApprovals).to.have.length(0);
    });

    it("an INT validation recorded unhealthy cannot be approved (record edited after the fact)", async () => {
      const t = new FakeTarget();
      const m = machine(t);
      const r = await m.start();
      const rec = await t.store.load(r.id);
      rec.validations.int!.healthy = false;
      await t.store.save(rec);
      expect((await rejects(m.approve(r.id, "alice"))).message).to.match(/has no passing INT validation for its model/);
    });
  });

  describe("promote: the INT validation must be of the approved model version and digest", () => {
    for (const [what, edit] of [
      ["another version", (v: { modelVersion: string }) => void (v.modelVersion = "9")],
      ["another digest", (v: { digest: string }) => void (v.digest = other)],
      ["an unhealthy result", (v: { healthy: boolean }) => void (v.healthy = false)],
    ] as const) {
      it(`an approved release whose INT validation is ${what} does not reach prod`, async () => {
        const t = new FakeTarget();
        const m = machine(t);
        const r = await m.start();
        await m.approve(r.id, "alice");
        const rec = await t.store.load(r.id);
        (edit as (v: object) => void)(rec.validations.int!);
        await t.store.save(rec);
        const err = await rejects(m.promote(r.id));
        expect(err).to.be.instanceOf(ApprovalError);
        expect(err.message).to.equal("diabetes-ridge v1 was not validated in int; nothing reaches prod without it");
        expect(t.counts["deploy-prod"]).to.equal(undefined);
      });
    }

    it("an approved release without an INT validation record does not reach prod", async () => {
      const t = new FakeTarget();
      const m = machine(t);
      const r = await m.start();
      await m.approve(r.id, "alice");
      const rec = await t.store.load(r.id);
      delete rec.validations.int;
      await t.store.save(rec);
      expect((await rejects(m.promote(r.id))).message).to.match(/was not validated in int/);
      expect(t.counts["deploy-prod"]).to.equal(undefined);
    });
  });

  describe("promote: the approval must be bound to the model's name, version and digest", () => {
    for (const [what, key, value] of [
      ["model name", "modelName", "other-model"],
      ["model version", "modelVersion", "9"],
    ] as const) {
      it(`an approval for another ${what} does not let promote through`, async () => {
        const t = new FakeTarget();
        const m = machine(t);
        const r = await m.start();
        await m.approve(r.id, "alice");
        const rec = await t.store.load(r.id);
        rec.approval![key] = value;
        await t.store.save(rec);
        expect((await rejects(m.promote(r.id))).message).to.match(
          /^the approval on release .* is for .*, not for diabetes-ridge v1; approve this version again/,
        );
        expect(t.counts["deploy-prod"]).to.equal(undefined);
      });
    }
  });

  describe("promote: the registry must still hold the approved artifact", () => {
    it("a version gone from the registry is refused before any deploy", async () => {
      const t = new FakeTarget();
      const m = machine(t);
      const r = await m.start();
      await m.approve(r.id, "alice");
      t.versions = [];
      expect((await rejects(m.promote(r.id))).message).to.match(/^diabetes-ridge v1 in the registry no longer has digest sha100000000/);
      expect(t.counts["deploy-prod"]).to.equal(undefined);
    });
  });
});
