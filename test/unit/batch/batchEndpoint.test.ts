/**
 * The batch scoring component in both stacks, built with Pulumi mocks from the real Pulumi.<stack>.yaml: a batch
 * endpoint (Entra token auth), and once the stack serves a version, one deployment on the training cluster running
 * ml/batch_score.py with score.py beside it, in the online deployments' environment, with the served version.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { batchEndpointName, primaryServedVersion } from "../../../components/batchEndpoint.js";
import { parseStackConfig } from "../../../config/stackConfig.js";
import { buildForTest, REPO_ROOT, stackFileConfig, unwrap } from "../infra/harness.js";

const T = {
  blob: "azure-native:storage:Blob",
  code: "azure-native:machinelearningservices:CodeVersion",
  endpoint: "azure-native:machinelearningservices:BatchEndpoint",
  deployment: "azure-native:machinelearningservices:BatchDeployment",
  compute: "azure-native:machinelearningservices:Compute",
};

function servingWith(stack: string, deployments: Record<string, { version: string; weight: number }>) {
  const serving = stackFileConfig(stack)["mlops:serving"] as Record<string, unknown>;
  return { "mlops:serving": { ...serving, deployments } };
}

describe("batch scoring in the stacks (components/batchEndpoint.ts, Pulumi mocks)", function () {
  this.timeout(60_000);

  for (const stack of ["int", "prod"] as const) {
    it(`${stack}: serves the version with the most traffic, on the training cluster, with batch_score.py and score.py as one code version`, async () => {
      const built = await buildForTest(stack, {
        configOverrides: servingWith(stack, { blue: { version: "3", weight: 10 }, green: { version: "4", weight: 90 } }),
      });
      const endpoint = built.one(T.endpoint).inputs;
      expect(endpoint.properties.authMode).to.equal("AADToken");
      expect(endpoint.endpointName).to.match(/^bep-mlops-[a-z]+-[0-9a-f]{8}$/);
      const d = built.one(T.deployment).inputs;
      const training = built.ofType(T.compute).find((c) => c.inputs.properties.computeType === "AmlCompute")!;
      expect(d.properties.compute).to.equal(await unwrap(built.stack.components.training.compute.id));
      expect(d.properties.compute).to.contain(`/computes/${training.inputs.computeName}`);
      expect(d.properties.model).to.deep.equal({
        referenceType: "Id",
        assetId: `${await unwrap(built.stack.outputs.workspaceId)}/models/diabetes-ridge/versions/4`,
      });
      expect(d.properties.codeConfiguration).to.deep.equal({
        codeId: await unwrap(built.stack.components.batch.codeVersion.id),
        scoringScript: "batch_score.py",
      });
      expect(d.properties.environmentId).to.equal(await unwrap(built.stack.components.serving.environmentVersion.id));
      expect(d.properties).to.include({
        outputAction: "AppendRow",
        outputFileName: "predictions.csv",
        miniBatchSize: 10,
        maxConcurrencyPerInstance: 1,
        errorThreshold: -1,
      });
      expect(d.properties.resources).to.deep.equal({ instanceCount: 1 });
      expect(d.properties.retrySettings).to.deep.equal({ maxRetries: 3, timeout: "PT300S" });
      const code = built.ofType(T.code).find((c) => c.inputs.name === "mlops-batch-score")!.inputs;
      const blobs = built
        .ofType(T.blob)
        .filter((b) => String(b.inputs.blobName).startsWith("batch-code/"))
        .map((b) => b.inputs.blobName)
        .sort();
      expect(blobs).to.deep.equal([`batch-code/${code.version}/batch_score.py`, `batch-code/${code.version}/score.py`]);
      expect(code.properties.codeUri).to.match(new RegExp(`/mlops-code/batch-code/${code.version}$`));
      expect(built.stack.outputs.batchModelVersion).to.equal("4");
    });
  }

  it("before the first release (no served version) only the endpoint exists", async () => {
    const built = await buildForTest("int");
    expect(built.ofType(T.endpoint)).to.have.length(1);
    expect(built.ofType(T.deployment)).to.have.length(0);
    expect(built.stack.outputs.batchModelVersion).to.equal("");
  });

  it("a change to score.py gives the batch code a new version too (the batch deployment runs the same scoring code)", async () => {
    const a = await buildForTest("int", { configOverrides: servingWith("int", { blue: { version: "1", weight: 100 } }) });
    const tmp = path.join(REPO_ROOT, ".mlops", "test-score-variant.py");
    const { mkdirSync, writeFileSync, rmSync } = await import("node:fs");
    mkdirSync(path.dirname(tmp), { recursive: true });
    writeFileSync(tmp, readFileSync(path.join(REPO_ROOT, "ml", "score.py"), "utf8") + "\n# changed\n");
    try {
      const b = await buildForTest("int", { configOverrides: servingWith("int", { blue: { version: "1", weight: 100 } }), scoringScriptPath: tmp });
      const version = (x: typeof a) => x.ofType(T.code).find((c) => c.inputs.name === "mlops-batch-score")!.inputs.version;
      expect(version(b)).to.not.equal(version(a));
    } finally {
      rmSync(tmp, { force: true });
    }
  });

  it("primaryServedVersion: most traffic wins, ties go to the first name; none when nothing is served", () => {
    expect(primaryServedVersion({ blue: { version: "1", weight: 100 }, green: { version: "2", weight: 0 } })).to.equal("1");
    expect(primaryServedVersion({ blue: { version: "1", weight: 50 }, green: { version: "2", weight: 50 } })).to.equal("1");
    expect(primaryServedVersion({})).to.equal(undefined);
  });

  it("batchEndpointName keeps the stable suffix within 32 characters", () => {
    expect(batchEndpointName("ep-mlops-int-1a2b3c4d")).to.equal("bep-mlops-int-1a2b3c4d");
    const long = batchEndpointName("ep-abcdefgh-very-long-stack-1a2b3c4d".slice(0, 23) + "-1a2b3c4d");
    expect(long.length).to.be.at.most(32);
    expect(long.endsWith("-1a2b3c4d")).to.equal(true);
  });

  it("config: mlops:batch is validated with the stack and key named; instanceCount cannot exceed the training cluster", () => {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stackFileConfig("int"))) if (k.startsWith("mlops:")) raw[k.slice(6)] = structuredClone(v);
    raw.batch = { instanceCount: 9, miniBatchSize: 0, retryTimeout: "soon" };
    let message = "";
    try {
      parseStackConfig("int", raw);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.contain("stack 'int': mlops:batch.miniBatchSize");
    expect(message).to.contain("mlops:batch.retryTimeout");
    delete raw.batch;
    expect(parseStackConfig("int", raw).batch).to.deep.equal({
      instanceCount: 1,
      miniBatchSize: 10,
      maxConcurrencyPerInstance: 1,
      errorThreshold: -1,
      maxRetries: 3,
      retryTimeout: "PT300S",
    });
    raw.batch = { instanceCount: 9 };
    expect(() => parseStackConfig("int", raw)).to.throw("mlops:batch.instanceCount (9) must be <= mlops:training.maxNodes (4)");
  });
});
