import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parseStackConfig, rawConfigFromPulumiConfig, readStackConfigFile, StackConfigError } from "../../../config/stackConfig.js";
import { rawOf, REPO_ROOT, stackFileConfig } from "./harness.js";
import { tempDir } from "../../support/tempDirs.js";

function problemsOf(stack: string, raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(stack, raw);
  } catch (error) {
    expect(error).to.be.instanceOf(StackConfigError);
    const e = error as StackConfigError;
    expect(e.stackName).to.equal(stack);
    expect(e.message.split("\n")).to.have.length(e.problems.length);
    return e.message.split("\n");
  }
  expect.fail("expected a StackConfigError");
}

describe("stack config: the checked-in files", function () {
  it("parses Pulumi.int.yaml: training scales to zero, no approvers, no deployments yet", function () {
    const config = readStackConfigFile(REPO_ROOT, "int");
    expect(config.isProduction).to.equal(false);
    expect(config.training).to.deep.equal({ vmSize: "STANDARD_D3_V2", vmPriority: "Dedicated", minNodes: 0, maxNodes: 4, idleScaleDown: "PT120S" });
    expect(config.approvers).to.deep.equal([]);
    expect(config.serving.deployments).to.deep.equal({});
    expect(config.keyVault.purgeProtection).to.equal(false);
  });

  it("parses Pulumi.prod.yaml: training 0..4 STANDARD_D3_V2 (PROD never trains), two approvers, purge protection", function () {
    const config = readStackConfigFile(REPO_ROOT, "prod");
    expect(config.isProduction).to.equal(true);
    expect(config.training.minNodes).to.equal(0);
    expect(config.training.maxNodes).to.equal(4);
    expect(config.training.vmSize).to.equal("STANDARD_D3_V2");
    expect(config.approvers).to.have.length(2);
    expect(config.keyVault.purgeProtection).to.equal(true);
    expect(config.aks.vcpuTotal).to.be.at.least(4);
    expect(config.tags).to.include({ environment: "prod", project: "mlops-azure", owner: "ml-platform" });
  });

  it("accepts the JSON strings pulumi.Config hands over and ignores other namespaces", function () {
    const all: Record<string, string> = {};
    for (const [key, value] of Object.entries(stackFileConfig("prod"))) {
      all[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const raw = rawConfigFromPulumiConfig(all);
    expect(raw).not.to.have.property("azure-native:location");
    expect(parseStackConfig("prod", raw)).to.deep.equal(readStackConfigFile(REPO_ROOT, "prod"));
  });

  it("normalizes a numeric model version to a string and accepts blue/green weights summing to 100", function () {
    const raw = rawOf("prod");
    raw.serving.deployments = { blue: { version: 3, weight: 80 }, green: { version: "4", weight: 20 } };
    const config = parseStackConfig("prod", raw);
    expect(config.serving.deployments).to.deep.equal({ blue: { version: "3", weight: 80 }, green: { version: "4", weight: 20 } });
  });

  it("reports a missing stack file as a StackConfigError naming the file", function () {
    const dir = tempDir("mlops-cfg-");
    expect(() => readStackConfigFile(dir, "qa")).to.throw(StackConfigError, /Pulumi\.qa\.yaml/);
    writeFileSync(join(dir, "Pulumi.qa.yaml"), "encryptionsalt: x\n");
    expect(() => readStackConfigFile(dir, "qa")).to.throw(StackConfigError, /has no config: map/);
  });

  it("reports unparseable YAML as one line naming the stack, the file and the position (no code frame)", function () {
    const dir = tempDir("mlops-cfg-");
    writeFileSync(join(dir, "Pulumi.qa.yaml"), "config:\n  mlops:location: [unclosed\n  : : :\n");
    let error: unknown;
    try {
      readStackConfigFile(dir, "qa");
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StackConfigError);
    const e = error as StackConfigError;
    expect(e.problems).to.have.length(1);
    expect(e.message.split("\n"), e.message).to.have.length(1);
    expect(e.message).to.match(/^stack 'qa': cannot parse .*Pulumi\.qa\.yaml as YAML: .* at line \d+, column \d+; fix the file/);
  });
});

describe("stack config: every bad value is one clear line naming stack, key and allowed values", function () {
  it("refuses a near-miss prod tag ('Prod', 'production') that would silently turn off TLS, purge protection and approvers", function () {
    for (const environment of ["Prod", "production", "PROD"]) {
      const raw = rawOf("prod");
      raw.tags.environment = environment;
      raw.aks.allowInsecureConnections = true;
      delete raw.aks.tls;
      expect(problemsOf("prod", raw), environment).to.deep.equal([
        `stack 'prod': mlops:tags.environment (${JSON.stringify(environment)}) must be exactly "prod" in the stack named prod: the production rules (TLS, purge protection, approvers, policy) key on that value`,
      ]);
    }
    const staging = rawOf("int");
    staging.tags.environment = "PROD";
    expect(problemsOf("staging", staging)).to.deep.equal([
      `stack 'staging': mlops:tags.environment ("PROD") must be exactly "prod" in the stack named prod: the production rules (TLS, purge protection, approvers, policy) key on that value`.replace(
        " in the stack named prod",
        "",
      ),
    ]);
  });

  it("refuses tags Azure would refuse at deploy time: a value over 256 characters, a name over 128 (the storage account's limit), more than 50", function () {
    const raw = rawOf("int");
    raw.tags.project = "y".repeat(257);
    raw.tags["n".repeat(129)] = "x";
    expect(problemsOf("int", raw)).to.deep.equal([
      `stack 'int': mlops:tags.project is 257 characters long: Azure allows at most 256 in a tag value`,
      `stack 'int': mlops:tags has a tag name of 129 characters (${"n".repeat(12)}...): Azure allows at most 128 on a storage account, which every stack tags`,
    ]);
    const many = rawOf("int");
    for (let i = 0; i < 48; i++) many.tags[`t${i}`] = "x";
    expect(problemsOf("int", many)).to.deep.equal(["stack 'int': mlops:tags has 51 tags: Azure allows at most 50 per resource"]);
  });

  it("rejects min nodes above max nodes", function () {
    const raw = rawOf("prod");
    raw.training.minNodes = 5;
    expect(problemsOf("prod", raw)).to.deep.equal(["stack 'prod': mlops:training.minNodes (5) must be <= mlops:training.maxNodes (4)"]);
  });

  it("rejects an unknown endpoint auth mode, listing Key | AMLToken", function () {
    const raw = rawOf("int");
    raw.serving.authMode = "Password";
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:serving.authMode (\"Password\") must be one of Key | AMLToken (a Kubernetes online endpoint does not support AADToken)",
    ]);
  });

  it("rejects traffic weights that do not sum to 100", function () {
    const raw = rawOf("prod");
    raw.serving.deployments = { blue: { version: "1", weight: 60 }, green: { version: "2", weight: 30 } };
    expect(problemsOf("prod", raw)).to.deep.equal(["stack 'prod': mlops:serving.deployments weights (blue=60, green=30) must sum to 100, not 90"]);
  });

  it("rejects a weight outside 0..100", function () {
    const raw = rawOf("prod");
    raw.serving.deployments = { blue: { version: "1", weight: 120 } };
    expect(problemsOf("prod", raw)[0]).to.equal("stack 'prod': mlops:serving.deployments.blue.weight (120) must be an integer from 0 to 100");
  });

  for (const bad of ["latest", "v2", "0", "1.5", -1]) {
    it(`rejects model version ${JSON.stringify(bad)} (not a positive integer)`, function () {
      const raw = rawOf("int");
      raw.serving.deployments = { blue: { version: bad, weight: 100 } };
      expect(problemsOf("int", raw)).to.deep.equal([
        `stack 'int': mlops:serving.deployments.blue.version (${JSON.stringify(bad)}) must be a model version: a positive integer such as "3"`,
      ]);
    });
  }

  it("rejects an AKS cluster below the Azure ML extension's 4 vCPU / 14 GB minimum", function () {
    const raw = rawOf("int");
    raw.aks.vmSize = "Standard_D2s_v3";
    raw.aks.nodeCount = 1;
    raw.serving.instanceType.limits = { cpu: "1", memory: "1536Mi" };
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:aks (1 x Standard_D2s_v3 = 2 vCPU / 8 GiB) must total at least 4 vCPU and 14 GB, the Azure ML extension's minimum: raise nodeCount or pick a larger vmSize",
    ]);
  });

  it("accepts two small nodes that reach the minimum together", function () {
    const raw = rawOf("int");
    raw.aks.vmSize = "standard_d2s_v3";
    raw.aks.nodeCount = 2;
    const config = parseStackConfig("int", raw);
    expect(config.aks).to.include({ vmSize: "Standard_D2s_v3", vcpuTotal: 4, memoryGiBTotal: 16 });
  });

  it("rejects an AKS VM size missing from the supported table, listing the allowed ones", function () {
    const raw = rawOf("int");
    raw.aks.vmSize = "Standard_M128s";
    const [line] = problemsOf("int", raw);
    expect(line).to.match(/^stack 'int': mlops:aks\.vmSize \("Standard_M128s"\) must be one of Standard_B2s \| .*Standard_D4s_v3 \| /);
  });

  for (const [path, value, message] of [
    ["aks.nodeCount", 0, "mlops:aks.nodeCount (0) must be a positive integer"],
    ["aks.nodeCount", -2, "mlops:aks.nodeCount (-2) must be a positive integer"],
    ["training.maxNodes", 0, "mlops:training.maxNodes (0) must be a positive integer"],
    ["training.minNodes", -1, "mlops:training.minNodes (-1) must be an integer >= 0"],
    ["serving.scale.instanceCount", 0, "mlops:serving.scale.instanceCount (0) must be a positive integer"],
  ] as const) {
    it(`rejects ${path} = ${value}`, function () {
      const raw = rawOf("int");
      const [section, ...rest] = path.split(".");
      let target = raw[section!];
      for (const segment of rest.slice(0, -1)) target = target[segment];
      target[rest[rest.length - 1]!] = value;
      expect(problemsOf("int", raw)).to.deep.equal([`stack 'int': ${message}`]);
    });
  }

  for (const location of ["West Europe", "WESTEUROPE", "west-europe", "eu"]) {
    it(`rejects malformed location ${JSON.stringify(location)}`, function () {
      const raw = rawOf("int");
      raw.location = location;
      expect(problemsOf("int", raw)).to.deep.equal([
        `stack 'int': mlops:location (${JSON.stringify(location)}) must be an Azure region name such as "westeurope" (lowercase letters and digits, no spaces)`,
      ]);
    });
  }

  it("rejects a malformed idle scale-down duration", function () {
    const raw = rawOf("int");
    raw.training.idleScaleDown = "120";
    expect(problemsOf("int", raw)).to.deep.equal([
      'stack \'int\': mlops:training.idleScaleDown ("120") must be an ISO-8601 duration such as "PT120S" or "PT5M"',
    ]);
  });

  it("rejects instance type requests above limits and limits that do not fit a node", function () {
    const raw = rawOf("int");
    raw.serving.instanceType.requests = { cpu: "2", memory: "1Gi" };
    raw.serving.instanceType.limits = { cpu: "1", memory: "64Gi" };
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:serving.instanceType.requests.cpu (2) must be <= mlops:serving.instanceType.limits.cpu (1)",
      "stack 'int': mlops:serving.instanceType.limits (1 CPU, 64Gi) must be less than the limits of the cluster's defaultinstancetype (2 CPU, 2Gi), which Azure ML validates deployments against",
      "stack 'int': mlops:serving.instanceType.limits (1 CPU, 64Gi) must fit on one Standard_D4s_v3 node (4 vCPU, 16 GiB)",
    ]);
  });

  it("requires purge protection and at least one approver in prod", function () {
    const raw = rawOf("prod");
    raw.keyVault.purgeProtection = false;
    raw.approvers = [];
    expect(problemsOf("prod", raw)).to.deep.equal([
      "stack 'prod': mlops:keyVault.purgeProtection (false) must be true when tags.environment is prod",
      "stack 'prod': mlops:approvers ([]) must list at least one approver when tags.environment is prod",
    ]);
  });

  it("requires the project and owner tags", function () {
    const raw = rawOf("int");
    raw.tags = { environment: "int" };
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:tags.project is required: every resource carries environment, project, owner",
      "stack 'int': mlops:tags.owner is required: every resource carries environment, project, owner",
    ]);
  });

  it("names unknown keys (typos) instead of ignoring them", function () {
    const raw = rawOf("int");
    raw.training.maxNode = 3;
    raw.trainng = {};
    expect(problemsOf("int", raw)).to.have.members([
      "stack 'int': mlops:training has unknown key(s) maxNode",
      "stack 'int': the mlops: namespace has unknown key(s) trainng",
    ]);
  });

  it("reports a missing required key as required", function () {
    const raw = rawOf("int");
    delete raw.serving.model;
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:serving.model is required: it must be an Azure ML model name (letters, digits, '-', '_', '.')",
    ]);
  });

  it("reports every problem at once, one line each", function () {
    const raw = rawOf("prod");
    raw.location = "West Europe";
    raw.serving.authMode = "Password";
    raw.training.maxNodes = 0;
    expect(problemsOf("prod", raw)).to.have.length(3);
  });
});

describe("stack config: what Azure refuses is refused before any resource is touched", function () {
  const CERT = "-----BEGIN CERTIFICATE-----\ntest-only\n-----END CERTIFICATE-----\n";
  const KEY = "-----BEGIN PRIVATE KEY-----\ntest-only-key-text\n-----END PRIVATE KEY-----\n";
  const SECRET_KEYS = ["tlsCertificate", "tlsPrivateKey"];

  it("refuses AADToken on the Kubernetes endpoint in one line naming stack, key and Key | AMLToken", function () {
    const raw = rawOf("int");
    raw.serving.authMode = "AADToken";
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:serving.authMode (\"AADToken\") must be one of Key | AMLToken (a Kubernetes online endpoint does not support AADToken)",
    ]);
  });

  it("refuses plain HTTP in a stack tagged prod, saying how to serve TLS", function () {
    const raw = rawOf("prod");
    raw.aks.allowInsecureConnections = true;
    delete raw.aks.tls;
    const lines = problemsOf("prod", raw);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^stack 'prod': mlops:aks\.allowInsecureConnections \(true\) must be false when tags\.environment is prod: .* mlops:aks\.tls\.cname .*mlops:tlsCertificate \+ mlops:tlsPrivateKey/,
    );
  });

  it("refuses a stack tagged prod on another stack name too (the tag decides)", function () {
    const raw = rawOf("int");
    raw.tags.environment = "prod";
    raw.keyVault.purgeProtection = true;
    raw.approvers = ["alice"];
    const lines = problemsOf("staging", raw);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^stack 'staging': mlops:aks\.allowInsecureConnections \(true\) must be false when tags\.environment is prod/);
  });

  it("parses PROD's TLS: cname, certificate from secret config, three nodes, HA router, clusterPurpose FastProd", function () {
    const raw = { ...rawOf("prod"), tlsCertificate: CERT, tlsPrivateKey: KEY };
    const config = parseStackConfig("prod", raw, { secretKeys: SECRET_KEYS, requireCertificate: true });
    expect(config.aks).to.deep.include({ allowInsecureConnections: false, nodeCount: 3, inferenceRouterHA: true, clusterPurpose: "FastProd" });
    expect(config.aks.tls).to.deep.equal({ cname: "scoring.prod.mlops.example.com", certificateFrom: "secretConfig" });
    expect(JSON.stringify(config)).not.to.contain("test-only");
  });

  it("INT (one node, HTTP) gets one router replica and clusterPurpose DevTest", function () {
    const config = readStackConfigFile(REPO_ROOT, "int");
    expect(config.aks).to.deep.include({ inferenceRouterHA: false, clusterPurpose: "DevTest", allowInsecureConnections: true });
    expect(config.aks.tls).to.equal(undefined);
  });

  it("requires the certificate itself when the program validates (pulumi up), naming both sources", function () {
    expect(() => parseStackConfig("prod", rawOf("prod"))).not.to.throw();
    try {
      parseStackConfig("prod", rawOf("prod"), { requireCertificate: true });
      expect.fail("expected a StackConfigError");
    } catch (error) {
      expect((error as StackConfigError).message).to.equal(
        "stack 'prod': mlops:aks.tls needs a certificate: mlops:aks.tls.secretName (a Kubernetes secret with cert.pem and key.pem in the azureml namespace) or mlops:tlsCertificate + mlops:tlsPrivateKey",
      );
    }
  });

  it("refuses a private key stored in plain text, without ever quoting it", function () {
    const raw = { ...rawOf("prod"), tlsCertificate: CERT, tlsPrivateKey: KEY };
    const lines = problemsOf("prod", raw);
    expect(lines).to.deep.equal([
      "stack 'prod': mlops:tlsPrivateKey is stored in plain text: remove it and set it with 'pulumi config set --secret mlops:tlsPrivateKey < key.pem' (then rotate the key)",
    ]);
    expect(lines.join("\n")).not.to.contain("test-only-key-text");
  });

  it("accepts the certificate and key as the stack file stores secrets ({secure: ...})", function () {
    const raw = { ...rawOf("prod"), tlsCertificate: { secure: "v1:abc" }, tlsPrivateKey: { secure: "v1:def" } };
    expect(parseStackConfig("prod", raw, { requireCertificate: true }).aks.tls).to.deep.equal({
      cname: "scoring.prod.mlops.example.com",
      certificateFrom: "secretConfig",
    });
  });

  it("refuses a certificate without its key, a pass-phrase protected key, and a non-PEM certificate", function () {
    expect(problemsOf("prod", { ...rawOf("prod"), tlsCertificate: CERT })).to.deep.equal([
      "stack 'prod': mlops:tlsCertificate + mlops:tlsPrivateKey must be set together (both as Pulumi secrets) or not at all",
    ]);
    const encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n";
    const lines = problemsOf("prod", { ...rawOf("prod"), tlsCertificate: "not a pem", tlsPrivateKey: encrypted });
    expect(lines).to.deep.equal([
      "stack 'prod': mlops:tlsCertificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)",
      "stack 'prod': mlops:tlsPrivateKey is stored in plain text: remove it and set it with 'pulumi config set --secret mlops:tlsPrivateKey < key.pem' (then rotate the key)",
    ]);
    try {
      parseStackConfig("prod", { ...rawOf("prod"), tlsCertificate: CERT, tlsPrivateKey: encrypted }, { secretKeys: SECRET_KEYS });
      expect.fail("expected a StackConfigError");
    } catch (error) {
      expect((error as StackConfigError).problems).to.deep.equal([
        "mlops:tlsPrivateKey must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----; pass-phrase protected keys are not supported)",
      ]);
    }
  });

  it("refuses two certificate sources, and TLS settings next to allowInsecureConnections: true", function () {
    const both: Record<string, any> = { ...rawOf("prod"), tlsCertificate: { secure: "v1:a" }, tlsPrivateKey: { secure: "v1:b" } };
    both.aks.tls.secretName = "azureml-fe-tls";
    expect(problemsOf("prod", both)).to.deep.equal([
      "stack 'prod': mlops:aks.tls.secretName and mlops:tlsCertificate + mlops:tlsPrivateKey are both set: use one certificate source",
    ]);
    const raw = rawOf("int");
    raw.aks.tls = { cname: "scoring.int.example.com", secretName: "azureml-fe-tls" };
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:aks.tls / mlops:tlsCertificate + mlops:tlsPrivateKey are set but mlops:aks.allowInsecureConnections is true: set it to false to serve over TLS, or remove the TLS settings",
    ]);
  });

  it("requires tls when allowInsecureConnections is false (the extension's default)", function () {
    const raw = rawOf("int");
    delete raw.aks.allowInsecureConnections;
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:aks.tls is required when mlops:aks.allowInsecureConnections is false: give cname and a certificate (secretName, or mlops:tlsCertificate + mlops:tlsPrivateKey)",
    ]);
  });

  it("refuses the HA router (three azureml-fe replicas) on fewer than three nodes", function () {
    const raw = rawOf("int");
    raw.aks.inferenceRouterHA = true;
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:aks.inferenceRouterHA (true) needs mlops:aks.nodeCount >= 3 (three azureml-fe replicas on separate nodes), not 1: raise nodeCount or set inferenceRouterHA false",
    ]);
  });

  it("refuses container limits not below the cluster's defaultinstancetype's, which the deployments are validated against", function () {
    const raw = rawOf("int");
    raw.serving.instanceType.limits = { cpu: "1", memory: "2Gi" };
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:serving.instanceType.limits (1 CPU, 2Gi) must be less than the limits of the cluster's defaultinstancetype (2 CPU, 2Gi), which Azure ML validates deployments against",
    ]);
  });

  it("says what to do with an instance type name from an older stack file", function () {
    const raw = rawOf("int");
    raw.serving.instanceType.name = "inference-small";
    expect(problemsOf("int", raw)).to.deep.equal([
      "stack 'int': mlops:serving.instanceType.name is no longer used: deployments name no instance type and run on the cluster's defaultinstancetype with the requests/limits given here; remove the key",
    ]);
  });
});
