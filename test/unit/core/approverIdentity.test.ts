/**
 * Approvals from an identity: an authenticated approver (Entra ID token claims, a CI system's record) may only be
 * recorded under one of its own names; a local approval is unauthenticated, must give --as, and says so.
 */
import { expect } from "chai";
import { parseReleaseConfig, type ReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { approverName, describeIdentity } from "../../../driver/core/approverIdentity.js";
import { ApprovalError } from "../../../driver/core/errors.js";
import type { ApproverIdentity } from "../../../driver/core/release.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";

const alice: ApproverIdentity = {
  authenticated: true,
  source: "entra-id",
  names: ["Alice@Contoso.com", "5b1f3c2a-0d4e-4c8b-9a7f-1e2d3c4b5a69"],
  objectId: "5b1f3c2a-0d4e-4c8b-9a7f-1e2d3c4b5a69",
  tenantId: "t1",
};
const local: ApproverIdentity = { authenticated: false, source: "local", osUser: "bob", host: "laptop" };
const listed = ["alice@contoso.com", "carol@contoso.com"];

const config: ReleaseConfig = parseReleaseConfig({
  model: { name: "diabetes-ridge" },
  gate: { metrics: { rmse: { greater_is_better: false, threshold: 60 } } },
});
const machine = (t: FakeTarget) => new ReleaseStateMachine({ target: t, config, progress: silentProgress, newId: () => "rel-20261202-050000-a11c" });

async function awaiting(identity: ApproverIdentity): Promise<{ t: FakeTarget; id: string }> {
  const t = new FakeTarget();
  t.approverList.prod = [...listed];
  t.identity = identity;
  const r = await machine(t).start();
  expect(r.state).to.equal("awaiting-approval");
  return { t, id: r.id };
}

describe("approver identity", () => {
  describe("approverName (the rule)", () => {
    it("an authenticated identity with no --as is recorded under the first of its names that mlops:approvers lists, as listed", () => {
      expect(approverName("", alice, listed)).to.equal("alice@contoso.com");
      expect(approverName(undefined, alice, ["5B1F3C2A-0D4E-4C8B-9A7F-1E2D3C4B5A69"])).to.equal("5B1F3C2A-0D4E-4C8B-9A7F-1E2D3C4B5A69");
    });

    it("--as one of the identity's own names (any case) is accepted; another name is refused, naming who is signed in", () => {
      expect(approverName("ALICE@contoso.com", alice, listed)).to.equal("alice@contoso.com");
      expect(() => approverName("carol@contoso.com", alice, listed)).to.throw(
        ApprovalError,
        "--as 'carol@contoso.com' is not who is signed in (Alice@Contoso.com (Entra ID token, object id 5b1f3c2a-0d4e-4c8b-9a7f-1e2d3c4b5a69)); approve as yourself, or sign in as 'carol@contoso.com' and run it again",
      );
    });

    it("an unauthenticated (local) approval must give --as; the name is taken as typed (the core checks the list)", () => {
      expect(() => approverName("  ", local, listed)).to.throw(ApprovalError, /^approver name is empty; pass --as <name>/);
      expect(approverName("Carol@contoso.com", local, listed)).to.equal("carol@contoso.com");
      expect(approverName("mallory", local, listed)).to.equal("mallory");
    });

    it("an authenticated identity none of whose names is listed yields its first name (for the core to refuse)", () => {
      expect(approverName("", alice, ["carol@contoso.com"])).to.equal("Alice@Contoso.com");
    });

    it("an empty name claim is never the name an approval is recorded under; an identity with no name yields none", () => {
      const withEmptyClaim: ApproverIdentity = { authenticated: true, source: "entra-id", names: ["", "Alice@Contoso.com"] };
      expect(approverName("", withEmptyClaim, ["carol@contoso.com"])).to.equal("Alice@Contoso.com");
      expect(approverName(undefined, { authenticated: true, source: "github", names: [] }, listed)).to.equal("");
    });

    it("an identity with no name but its object id is shown by its object id; with neither, as '?'", () => {
      const oid = "5b1f3c2a-0d4e-4c8b-9a7f-1e2d3c4b5a69";
      expect(describeIdentity({ authenticated: true, source: "entra-id", names: [oid], objectId: oid })).to.equal(`${oid} (Entra ID token, object id ${oid})`);
      expect(describeIdentity({ authenticated: true, source: "github", names: [] })).to.equal("? (GitHub environment review)");
    });

    it("describes each kind of identity for the record and the status view", () => {
      expect(describeIdentity(local)).to.equal("unauthenticated: OS user bob on laptop");
      expect(describeIdentity({ authenticated: true, source: "github", names: ["github:alice-smith"] })).to.equal(
        "github:alice-smith (GitHub environment review)",
      );
      expect(describeIdentity({ authenticated: true, source: "azure-devops", names: ["alice@contoso.com", "guid-1"] })).to.equal(
        "alice@contoso.com / guid-1 (Azure DevOps environment check)",
      );
    });
  });

  describe("the release core", () => {
    it("records the signed-in identity with the approval when no --as is given", async () => {
      const { t, id } = await awaiting(alice);
      const r = await machine(t).approve(id, "");
      expect(r.state).to.equal("approved");
      expect(r.approval!.by).to.equal("alice@contoso.com");
      expect(r.approval!.identity).to.deep.equal(alice);
    });

    it("refuses --as someone else for an authenticated identity, and records nothing", async () => {
      const { t, id } = await awaiting(alice);
      const err = await machine(t)
        .approve(id, "carol@contoso.com")
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ApprovalError);
      expect((err as Error).message).to.match(/^--as 'carol@contoso.com' is not who is signed in/);
      const r = await t.store.load(id);
      expect(r.state).to.equal("awaiting-approval");
      expect(r.approval).to.equal(undefined);
    });

    it("a local approval records that it was not authenticated, with the OS user", async () => {
      const { t, id } = await awaiting(local);
      const r = await machine(t).approve(id, "carol@contoso.com");
      expect(r.approval!.by).to.equal("carol@contoso.com");
      expect(r.approval!.identity).to.deep.equal(local);
    });

    it("an identity handed in by the caller (a CI system's record) is used instead of the target's", async () => {
      const { t, id } = await awaiting(local);
      const ci: ApproverIdentity = { authenticated: true, source: "azure-devops", names: ["carol@contoso.com", "guid-c"] };
      const r = await machine(t).approve(id, "carol@contoso.com", "ok", ci);
      expect(r.approval!.identity).to.deep.equal(ci);
      const refused = await machine(t)
        .approve(id, "alice@contoso.com", "ok", ci)
        .catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(ApprovalError);
    });
  });
});
