/**
 * SDK-judged contract tests for batch scoring: the BatchEndpoint and BatchDeployment the Pulumi program declares for
 * INT and PROD (built with Pulumi mocks from the real Pulumi.<stack>.yaml), turned into the ARM body azure-native
 * sends (inputs minus the URL path parameters; api-version 2025-12-01, the SDK's REST models) and judged by
 * azure-ai-ml 1.35.2: its REST models (BatchEndpoint, BatchDeployment) and the entity round trip
 * (BatchEndpoint._from_rest_object / _to_rest_batch_endpoint, BatchDeployment._from_rest_object / _to_rest_object).
 */
import { expect } from "chai";
import { useSdkOracle } from "../../oracle/sdkOracle.js";
import { sdkDefects } from "../../oracle/verdicts.js";
import { buildForTest, stackFileConfig, SUBSCRIPTION_ID } from "../infra/harness.js";

const KINDS = {
  "azure-native:machinelearningservices:BatchEndpoint": {
    kind: "batchEndpoint",
    path: (i: Record<string, string>) => `batchEndpoints/${i.endpointName}`,
    pathParams: ["resourceGroupName", "workspaceName", "endpointName"],
  },
  "azure-native:machinelearningservices:BatchDeployment": {
    kind: "batchDeployment",
    path: (i: Record<string, string>) => `batchEndpoints/${i.endpointName}/deployments/${i.deploymentName}`,
    pathParams: ["resourceGroupName", "workspaceName", "endpointName", "deploymentName"],
  },
} as const;

describe("batch endpoint and deployment the Pulumi program declares, judged by the azure-ai-ml SDK (SDK-judged contract tests)", function () {
  this.timeout(60_000);
  const oracle = useSdkOracle();

  for (const stack of ["int", "prod"] as const) {
    it(`SDK-judged contract test: ${stack}: the batch endpoint and its deployment are accepted by the SDK's REST models and survive the entity round trip`, async () => {
      const serving = stackFileConfig(stack)["mlops:serving"] as Record<string, unknown>;
      const built = await buildForTest(stack, { configOverrides: { "mlops:serving": { ...serving, deployments: { blue: { version: "2", weight: 100 } } } } });
      const mine = built.resources.filter((r) => r.type in KINDS);
      expect(mine.map((r) => KINDS[r.type as keyof typeof KINDS].kind).sort()).to.deep.equal(["batchDeployment", "batchEndpoint"]);
      const defects: string[] = [];
      for (const r of mine) {
        const spec = KINDS[r.type as keyof typeof KINDS];
        const inputs = r.inputs as Record<string, string>;
        const body = Object.fromEntries(Object.entries(r.inputs).filter(([k]) => !(spec.pathParams as readonly string[]).includes(k)));
        // the mocks give the compute a pulumi-style id; Azure's is an ARM id under the workspace
        const id = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${inputs.resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/${inputs.workspaceName}/${spec.path(inputs)}`;
        const verdict = await oracle().judge(spec.kind, body, { id, name: id.split("/").pop()! });
        for (const d of sdkDefects(verdict, body, { apiVersion: "2025-12-01", request: true })) defects.push(`${spec.kind}: ${d}`);
        if (spec.kind === "batchEndpoint" && verdict.entity !== "BatchEndpoint") defects.push(`the SDK reads the endpoint as a ${verdict.entity}`);
        if (spec.kind === "batchDeployment" && verdict.entity !== "BatchDeployment") defects.push(`the SDK reads the deployment as a ${verdict.entity}`);
      }
      expect(defects).to.deep.equal([]);
    });
  }

  it("SDK-judged contract test: the judge finds a wrong batch deployment body (unknown key, bad enum, bad duration)", async () => {
    const verdict = await oracle().judge(
      "batchDeployment",
      { location: "westeurope", properties: { outputAction: "AppendRows", retrySettings: { maxRetries: 3, timeout: "300" }, miniBatchSze: 10 } },
      {
        id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/batchEndpoints/e/deployments/main`,
        name: "main",
      },
    );
    const defects = sdkDefects(verdict, {}, { apiVersion: "2025-12-01", request: true }).join("\n");
    expect(defects).to.contain("miniBatchSze");
    expect(defects).to.contain("AppendRows");
    expect(defects).to.match(/timeout/);
  });
});
