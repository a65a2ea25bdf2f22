/**
 * SDK-judged contract tests for the Pulumi program: every Azure ML resource it declares for INT and PROD
 * (AmlCompute and Kubernetes computes, the online endpoint, its deployments, the code and environment versions),
 * built under Pulumi runtime mocks from the real Pulumi.<stack>.yaml, turned into the ARM body azure-native sends
 * (its inputs mirror ARM; api-version 2025-12-01, the same as the SDK's REST models) and judged by azure-ai-ml.
 */
import { expect } from "chai";
import { buildForTest, stackFileConfig, SUBSCRIPTION_ID, type BuiltForTest, type RecordedResource } from "../../infra/harness.js";
import type { ResourceKind } from "../../../oracle/sdkOracle.js";
import { useSdkOracle } from "../../../oracle/sdkOracle.js";
import { sdkDefects } from "../../../oracle/verdicts.js";

/** azure-native type -> the SDK kind, the ARM collection under the workspace and the inputs that are URL path parameters. */
const RESOURCES: Record<string, { kind: ResourceKind; path: (i: Record<string, string>) => string; pathParams: string[] }> = {
  "azure-native:machinelearningservices:Compute": {
    kind: "compute",
    path: (i) => `computes/${i.computeName}`,
    pathParams: ["resourceGroupName", "workspaceName", "computeName"],
  },
  "azure-native:machinelearningservices:OnlineEndpoint": {
    kind: "onlineEndpoint",
    path: (i) => `onlineEndpoints/${i.endpointName}`,
    pathParams: ["resourceGroupName", "workspaceName", "endpointName"],
  },
  "azure-native:machinelearningservices:OnlineDeployment": {
    kind: "onlineDeployment",
    path: (i) => `onlineEndpoints/${i.endpointName}/deployments/${i.deploymentName}`,
    pathParams: ["resourceGroupName", "workspaceName", "endpointName", "deploymentName"],
  },
  "azure-native:machinelearningservices:CodeVersion": {
    kind: "codeVersion",
    path: (i) => `codes/${i.name}/versions/${i.version}`,
    pathParams: ["resourceGroupName", "workspaceName", "name", "version"],
  },
  "azure-native:machinelearningservices:EnvironmentVersion": {
    kind: "environmentVersion",
    path: (i) => `environments/${i.name}/versions/${i.version}`,
    pathParams: ["resourceGroupName", "workspaceName", "name", "version"],
  },
};

/** The mocks give other resources ids like `.../providers/containerservice:ManagedCluster/<name>`: make them ARM ids. */
const PROVIDER_OF: Record<string, string> = {
  "containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
  "storage:StorageAccount": "Microsoft.Storage/storageAccounts",
  "containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
  "keyvault:Vault": "Microsoft.KeyVault/vaults",
  "applicationinsights:Component": "Microsoft.Insights/components",
};
function armIds(value: unknown): unknown {
  if (typeof value === "string")
    return value.replace(/\/providers\/([a-z]+:[A-Za-z]+)\//, (m, t: string) => (PROVIDER_OF[t] ? `/providers/${PROVIDER_OF[t]}/` : m));
  if (Array.isArray(value)) return value.map(armIds);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, armIds(v)]));
  return value;
}

export interface ArmBody {
  type: string;
  kind: ResourceKind;
  id: string;
  name: string;
  body: Record<string, unknown>;
}

/** The ARM request azure-native makes for a recorded resource: path parameters out, the rest is the body. */
export function armBodyOf(r: RecordedResource): ArmBody {
  const spec = RESOURCES[r.type]!;
  const inputs = r.inputs as Record<string, unknown>;
  const body = Object.fromEntries(Object.entries(inputs).filter(([k]) => !spec.pathParams.includes(k)));
  const p = inputs as Record<string, string>;
  const id = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${p.resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/${p.workspaceName}/${spec.path(p)}`;
  return { type: r.type, kind: spec.kind, id, name: id.split("/").pop()!, body: armIds(body) as Record<string, unknown> };
}

/** Both colours declared, so the OnlineDeployment body is built too (the stack files ship with no deployments). */
function servingWithDeployments(stack: string) {
  const serving = stackFileConfig(stack)["mlops:serving"] as Record<string, unknown>;
  return { "mlops:serving": { ...serving, deployments: { blue: { version: "1", weight: 100 }, green: { version: "2", weight: 0 } } } };
}

describe("Azure ML resources the Pulumi program declares, judged by the azure-ai-ml SDK (SDK-judged contract tests)", function () {
  this.timeout(60_000);
  const oracle = useSdkOracle();

  for (const stack of ["int", "prod"] as const) {
    describe(`stack '${stack}'`, () => {
      let bodies: ArmBody[];
      before(async () => {
        const built: BuiltForTest = await buildForTest(stack, { configOverrides: servingWithDeployments(stack) });
        bodies = built.resources.filter((r) => r.type in RESOURCES).map(armBodyOf);
      });

      it(`SDK-judged contract test: ${stack} declares an AmlCompute and a Kubernetes compute, an online endpoint, two deployments, two code versions (online scoring, batch scoring) and an environment version`, () => {
        const kinds = bodies.map((b) => (b.kind === "compute" ? `compute:${String((b.body.properties as { computeType?: string }).computeType)}` : b.kind));
        expect(kinds.sort()).to.deep.equal([
          "codeVersion",
          "codeVersion",
          "compute:AmlCompute",
          "compute:Kubernetes",
          "environmentVersion",
          "onlineDeployment",
          "onlineDeployment",
          "onlineEndpoint",
        ]);
      });

      for (const [label, pick] of [
        [
          "the AmlCompute training cluster",
          (b: ArmBody) => b.kind === "compute" && (b.body.properties as { computeType?: string }).computeType === "AmlCompute",
        ],
        [
          "the Kubernetes inference compute",
          (b: ArmBody) => b.kind === "compute" && (b.body.properties as { computeType?: string }).computeType === "Kubernetes",
        ],
        ["the online endpoint", (b: ArmBody) => b.kind === "onlineEndpoint"],
        ["the online deployments", (b: ArmBody) => b.kind === "onlineDeployment"],
        ["the code version", (b: ArmBody) => b.kind === "codeVersion"],
        ["the environment version", (b: ArmBody) => b.kind === "environmentVersion"],
      ] as const) {
        it(`SDK-judged contract test: ${stack}: ${label} is accepted by the SDK's REST model and survives its entity round trip`, async () => {
          const mine = bodies.filter(pick);
          expect(mine, label).to.not.have.length(0);
          const defects: string[] = [];
          for (const b of mine) {
            const verdict = await oracle().judge(b.kind, b.body, { id: b.id, name: b.name });
            for (const d of sdkDefects(verdict, b.body, { apiVersion: "2025-12-01", request: true }))
              defects.push(`${b.id.replace(/.*\/workspaces\//, "")}: ${d}`);
            if (b.kind === "onlineEndpoint" && verdict.entity !== "KubernetesOnlineEndpoint") defects.push(`the SDK reads the endpoint as a ${verdict.entity}`);
            if (b.kind === "onlineDeployment" && verdict.entity !== "KubernetesOnlineDeployment")
              defects.push(`the SDK reads the deployment as a ${verdict.entity}`);
          }
          expect(defects).to.deep.equal([]);
        });
      }
    });
  }
});
