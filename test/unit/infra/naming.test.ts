import { expect } from "chai";
import { resourceNames, stableSuffix, INFERENCE_COMPUTE_NAME, TRAINING_COMPUTE_NAME } from "../../../config/naming.js";

const SUB = "11111111-2222-3333-4444-555555555555";

describe("resource naming", function () {
  it("derives the same suffix for the same subscription, stack and prefix", function () {
    expect(stableSuffix({ subscriptionId: SUB, stack: "prod", prefix: "mlops" })).to.equal(
      stableSuffix({ subscriptionId: SUB.toUpperCase(), stack: "prod", prefix: "mlops" }),
    );
    expect(stableSuffix({ subscriptionId: SUB, stack: "prod", prefix: "mlops" })).to.match(/^[0-9a-f]{8}$/);
  });

  it("gives each stack and each subscription different global names", function () {
    const prod = resourceNames({ subscriptionId: SUB, stack: "prod", prefix: "mlops" });
    const int = resourceNames({ subscriptionId: SUB, stack: "int", prefix: "mlops" });
    const other = resourceNames({ subscriptionId: "99999999-2222-3333-4444-555555555555", stack: "prod", prefix: "mlops" });
    for (const key of ["storageAccount", "keyVault", "containerRegistry", "endpoint"] as const) {
      expect(prod[key], key).not.to.equal(int[key]);
      expect(prod[key], key).not.to.equal(other[key]);
    }
  });

  const cases = [
    { stack: "int", prefix: "mlops" },
    { stack: "prod", prefix: "mlops" },
    { stack: "Feature_Branch-With.A.Very.Long.Name-2026", prefix: "abcdefgh" },
    { stack: "x", prefix: "ab" },
  ];
  for (const input of cases) {
    it(`keeps names within Azure's rules for stack '${input.stack}' and prefix '${input.prefix}'`, function () {
      const n = resourceNames({ subscriptionId: SUB, ...input });
      expect(n.storageAccount).to.match(/^[a-z0-9]{3,24}$/);
      expect(n.keyVault).to.match(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/);
      expect(n.keyVault).not.to.include("--");
      expect(n.containerRegistry).to.match(/^[a-zA-Z0-9]{5,50}$/);
      expect(n.workspace).to.match(/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/);
      expect(n.endpoint).to.match(/^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/);
      expect(n.resourceGroup.length).to.be.at.most(90);
      expect(n.aksCluster).to.match(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/);
      for (const global of [n.storageAccount, n.keyVault, n.containerRegistry, n.endpoint]) {
        expect(global, "keeps the unique suffix").to.include(n.suffix);
      }
    });
  }

  it("keeps workspace compute names within 2-16 characters", function () {
    for (const name of [TRAINING_COMPUTE_NAME, INFERENCE_COMPUTE_NAME]) expect(name).to.match(/^[a-z][a-z0-9-]{1,15}$/);
  });
});
