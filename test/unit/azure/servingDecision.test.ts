import { expect } from "chai";
import { decideServing } from "../../../driver/pulumi/servingDecision.js";

describe("blue/green serving decision", () => {
  it("the first version goes to blue with all the traffic", () => {
    const d = decideServing({ model: "m", deployments: {} }, "m", "1");
    expect(d.serving).to.deep.equal({ model: "m", deployments: { blue: { version: "1", weight: 100 } } });
    expect(d).to.deep.include({ color: "blue", changed: true });
    expect(d.previous).to.equal(undefined);
  });

  it("a new version goes to the idle color with weight 100; the active one is kept at 0 and recorded as previous", () => {
    const d = decideServing({ model: "m", deployments: { blue: { version: "3", weight: 100 } } }, "m", "4");
    expect(d.serving.deployments).to.deep.equal({ blue: { version: "3", weight: 0 }, green: { version: "4", weight: 100 } });
    expect(d).to.deep.include({ color: "green", previous: { color: "blue", version: "3" } });
    const back = decideServing(d.serving, "m", "5");
    expect(back.serving.deployments).to.deep.equal({ blue: { version: "5", weight: 100 }, green: { version: "4", weight: 0 } });
    expect(back.previous).to.deep.equal({ color: "green", version: "4" });
  });

  it("a version already serving all the traffic is no change", () => {
    const current = { model: "m", deployments: { blue: { version: "3", weight: 0 }, green: { version: "4", weight: 100 } } };
    const d = decideServing(current, "m", "4");
    expect(d).to.deep.include({ changed: false, color: "green" });
    expect(d.serving).to.deep.equal(current);
  });

  it("rolling back to the idle color that still holds the old version only moves the weights", () => {
    const d = decideServing({ model: "m", deployments: { blue: { version: "3", weight: 0 }, green: { version: "4", weight: 100 } } }, "m", "3");
    expect(d.serving.deployments).to.deep.equal({ blue: { version: "3", weight: 100 }, green: { version: "4", weight: 0 } });
    expect(d).to.deep.include({ color: "blue", previous: { color: "green", version: "4" } });
  });

  it("a canary split is resolved: the new version takes the color without traffic and the rest go to 0", () => {
    const d = decideServing({ model: "m", deployments: { blue: { version: "3", weight: 90 }, green: { version: "4", weight: 10 } } }, "m", "5");
    expect(d.serving.deployments).to.deep.equal({ blue: { version: "3", weight: 0 }, green: { version: "5", weight: 100 } });
    expect(d.previous).to.deep.equal({ color: "blue", version: "3" });
  });

  it("another model name replaces every deployment and offers no rollback target", () => {
    const d = decideServing({ model: "old", deployments: { blue: { version: "7", weight: 100 } } }, "new", "1");
    expect(d.serving).to.deep.equal({ model: "new", deployments: { blue: { version: "1", weight: 100 } } });
    expect(d.previous).to.equal(undefined);
    expect(d.detail).to.match(/serving model changes from old to new/);
  });

  it("weights always sum to 100", () => {
    let s = { model: "m", deployments: {} as Record<string, { version: string; weight: number }> };
    for (let v = 1; v <= 6; v++) {
      s = decideServing(s, "m", String(v)).serving;
      expect(Object.values(s.deployments).reduce((a, d) => a + d.weight, 0)).to.equal(100);
    }
  });
});
