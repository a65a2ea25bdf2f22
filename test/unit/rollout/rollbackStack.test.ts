import { expect } from "chai";
import { parseReleaseConfig } from "../../../driver/config/releaseConfig.js";
import { NotFoundError } from "../../../driver/core/errors.js";
import { ReleaseStateMachine } from "../../../driver/core/releaseStateMachine.js";
import { rollbackStack } from "../../../driver/rollout/rollbackStack.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";

const config = parseReleaseConfig({ model: { name: "m" }, gate: { mode: "disabled", metrics: { rmse: { greater_is_better: false } } } });
let seq = 0;
const machine = (t: FakeTarget) =>
  new ReleaseStateMachine({ target: t, config, progress: silentProgress, newId: () => `rel-20261127-1000${String(seq++).padStart(2, "0")}-beef` });

async function releaseToProd(t: FakeTarget): Promise<string> {
  const m = machine(t);
  const r = await m.start();
  await m.approve(r.id, "alice");
  await m.promote(r.id);
  return r.id;
}

describe("mlops rollback <stack> (over the ports)", () => {
  it("puts the previous version back on prod, validates it, crowns it champion and notes it on the release", async () => {
    const t = new FakeTarget();
    await releaseToProd(t);
    t.metrics = { rmse: 50, mae: 40, r2: 0.5 };
    t.fp = { ...t.fp, codeDigest: "code2" };
    const id2 = await releaseToProd(t);
    expect(t.serving.prod?.version).to.equal("2");
    const res = await rollbackStack(t, "prod", silentProgress);
    expect(res).to.deep.include({ from: "2", releaseId: id2 });
    expect(res.to.version).to.equal("1");
    expect(t.serving.prod?.version).to.equal("1");
    expect(t.championVersion).to.equal("1");
    expect((await t.store.load(id2)).events.at(-1)).to.deep.include({ event: "rolled-back" });
  });

  it("refuses with a clear message when nothing records what served before", async () => {
    const t = new FakeTarget();
    await releaseToProd(t);
    let err: unknown;
    await rollbackStack(t, "prod", silentProgress).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(NotFoundError);
    expect((err as Error).message).to.equal("no release records what prod served before v1; deploy the version you want with a release instead");
  });
});
