import { expect } from "chai";
import { parseStackConfig, readStackConfigFile, StackConfigError } from "../../../config/stackConfig.js";
import { parseCidr } from "../../../config/networkConfig.js";
import { rawOf, REPO_ROOT } from "./harness.js";

function problemsOf(stack: string, raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(stack, raw);
  } catch (error) {
    expect(error).to.be.instanceOf(StackConfigError);
    return (error as StackConfigError).message.split("\n");
  }
  expect.fail("expected a StackConfigError");
}

describe("stack config: mlops:network", function () {
  it("is off in both checked-in stacks, with the default address plan", function () {
    for (const stack of ["int", "prod"] as const) {
      const config = readStackConfigFile(REPO_ROOT, stack);
      expect(config.network).to.deep.equal({
        private: false,
        addressSpace: "10.40.0.0/16",
        subnets: { aks: "10.40.0.0/22", training: "10.40.4.0/24", privateEndpoints: "10.40.5.0/24" },
      });
      expect(config.tags).not.to.have.property("network");
    }
  });

  it("private: true tags every resource network: private and keeps a custom address plan", function () {
    const raw = rawOf("prod");
    raw["network"] = {
      private: true,
      addressSpace: "172.16.0.0/20",
      subnets: { aks: "172.16.0.0/24", training: "172.16.1.0/24", privateEndpoints: "172.16.2.0/27" },
    };
    const config = parseStackConfig("prod", raw);
    expect(config.network.private).to.equal(true);
    expect(config.network.subnets.privateEndpoints).to.equal("172.16.2.0/27");
    expect(config.tags).to.include({ network: "private", environment: "prod" });
  });

  it("refuses a value that is no boolean and a malformed or unaligned CIDR, one line each naming the key", function () {
    const raw = rawOf("int");
    raw["network"] = { private: "yes", addressSpace: "10.40.0.0/33", subnets: { aks: "10.40.1.0/22" } };
    expect(problemsOf("int", raw)).to.deep.equal([
      `stack 'int': mlops:network.private ("yes") must be true or false`,
      `stack 'int': mlops:network.addressSpace ("10.40.0.0/33") must be an IPv4 CIDR block such as "10.40.0.0/16" (address aligned to the prefix length)`,
      `stack 'int': mlops:network.subnets.aks ("10.40.1.0/22") must be an IPv4 CIDR block such as "10.40.0.0/16" (address aligned to the prefix length)`,
    ]);
  });

  it("refuses subnets outside the address space, overlapping each other or the AKS service range", function () {
    const raw = rawOf("int");
    raw["network"] = {
      private: true,
      addressSpace: "10.40.0.0/16",
      subnets: { aks: "10.40.0.0/22", training: "10.40.2.0/24", privateEndpoints: "10.0.5.0/24" },
    };
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:network.subnets.privateEndpoints (10.0.5.0/24) must lie inside mlops:network.addressSpace (10.40.0.0/16)",
      "stack 'int': mlops:network.subnets.privateEndpoints (10.0.5.0/24) overlaps the AKS service range 10.0.0.0/16: pick another block",
      "stack 'int': mlops:network.subnets.aks (10.40.0.0/22) overlaps mlops:network.subnets.training (10.40.2.0/24)",
    ]);
  });

  it("refuses an AKS subnet too small for the nodes, a surge node and the internal load balancer", function () {
    const raw = rawOf("prod");
    raw["network"] = { private: true, subnets: { aks: "10.40.0.0/29" } };
    expect(problemsOf("prod", raw)).to.deep.equal([
      "stack 'prod': mlops:network.subnets.aks (10.40.0.0/29) has 3 usable addresses, fewer than the 5 the nodes, an upgrade surge node and the internal load balancer need: pick a larger block",
    ]);
  });

  it("refuses a network tag that contradicts mlops:network.private (the program sets it)", function () {
    const raw = rawOf("int");
    raw["tags"] = { ...raw["tags"], network: "private" };
    expect(problemsOf("int", raw)).to.deep.equal([
      `stack 'int': mlops:tags.network ("private") is set by the program from mlops:network.private (false): remove the tag`,
    ]);
  });

  it("names unknown keys under mlops:network", function () {
    const raw = rawOf("int");
    raw["network"] = { privat: true };
    expect(problemsOf("int", raw)).to.deep.equal(["stack 'int': mlops:network has unknown key(s) privat"]);
  });

  it("parseCidr: aligned IPv4 blocks only", function () {
    expect(parseCidr("10.40.0.0/16")).to.deep.equal({ first: 10 * 2 ** 24 + 40 * 2 ** 16, size: 65536 });
    for (const bad of ["10.40.0.1/16", "256.0.0.0/8", "10.0.0.0", "10.0.0.0/33", "a.b.c.d/8"]) expect(parseCidr(bad), bad).to.equal(undefined);
  });
});
