import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { AZ as T, buildForTest, parentTypeOf, stackFileConfig, unwrap, SUBSCRIPTION_ID, type BuiltForTest } from "./harness.js";
import { BUILT_IN_ROLES } from "../../../components/roles.js";
import { readStackConfigFile } from "../../../config/stackConfig.js";
import { packFindings } from "./policyHarness.js";
import { REPO_ROOT } from "../../../program.js";

const C = {
  workspace: "mlops:workspace:MlWorkspace",
  training: "mlops:training:TrainingCluster",
  inference: "mlops:inference:AksInference",
  serving: "mlops:serving:ScoringEndpoint",
  batch: "mlops:batch:BatchScoring",
} as const;

/** The one resource of `type` under the online serving component (the batch component has its own code blob and version). */
function servingOne(built: BuiltForTest, type: string) {
  const found = built.ofType(type).filter((r) => parentTypeOf(r) === C.serving);
  expect(found, `${type} under ${C.serving}`).to.have.length(1);
  return found[0]!;
}

function servingWith(stack: string, deployments: Record<string, { version: string; weight: number }>) {
  const serving = stackFileConfig(stack)["mlops:serving"] as Record<string, unknown>;
  return { "mlops:serving": { ...serving, deployments } };
}

function computeOfType(built: BuiltForTest, computeType: string) {
  const found = built.ofType(T.compute).filter((c) => c.inputs.properties.computeType === computeType);
  expect(found, `${computeType} computes`).to.have.length(1);
  return found[0]!;
}

for (const stackName of ["int", "prod"] as const) {
  describe(`stack '${stackName}' built with Pulumi mocks from Pulumi.${stackName}.yaml`, function () {
    const config = readStackConfigFile(REPO_ROOT, stackName);
    let built: BuiltForTest;

    before(async function () {
      built = await buildForTest(stackName);
    });

    it("parents each resource type under the component that owns its concern", function () {
      const expected: Array<[string, string, number]> = [
        [T.rg, C.workspace, 1],
        [T.logs, C.workspace, 1],
        [T.appi, C.workspace, 1],
        [T.storage, C.workspace, 1],
        [T.kv, C.workspace, 1],
        [T.acr, C.workspace, 1],
        [T.mlw, C.workspace, 1],
        [T.aks, C.inference, 1],
        [T.ext, C.inference, 1],
        [T.role, C.inference, 3],
        [T.container, C.serving, 1],
        [T.blob, C.serving, 1],
        [T.code, C.serving, 1],
        [T.env, C.serving, 1],
        [T.endpoint, C.serving, 1],
        // batch scoring: ml/batch_score.py and ml/score.py as one code version, and the batch endpoint
        [T.blob, C.batch, 2],
        [T.code, C.batch, 1],
        [T.batchEndpoint, C.batch, 1],
      ];
      for (const [type, parent, count] of expected) {
        const found = built.ofType(type).filter((r) => parentTypeOf(r) === parent);
        expect(found, `${type} under ${parent}`).to.have.length(count);
      }
      // and none elsewhere: every resource of these types is under one of the components listed
      for (const type of new Set(expected.map(([t]) => t))) {
        expect(built.ofType(type), `${type} in all`).to.have.length(expected.filter(([t]) => t === type).reduce((n, [, , c]) => n + c, 0));
      }
      expect(parentTypeOf(computeOfType(built, "AmlCompute"))).to.equal(C.training);
      expect(parentTypeOf(computeOfType(built, "Kubernetes"))).to.equal(C.inference);
      for (const component of Object.values(C)) expect(built.ofType(component), component).to.have.length(1);
    });

    it("tags every taggable resource with environment, project and owner", function () {
      const taggable = built.resources.filter((r) => r.type.startsWith("azure-native:") && r.inputs.tags !== undefined);
      expect(taggable.length).to.be.greaterThan(8);
      for (const resource of taggable) {
        expect(resource.inputs.tags, resource.name).to.include({ environment: stackName, project: "mlops-azure", owner: "ml-platform" });
      }
    });

    it("locks the storage account down: HTTPS only, TLS 1.2 minimum, no public blob access", function () {
      const storage = built.one(T.storage).inputs;
      expect(storage.enableHttpsTrafficOnly).to.equal(true);
      expect(storage.minimumTlsVersion).to.equal("TLS1_2");
      expect(storage.allowBlobPublicAccess).to.equal(false);
      expect(storage.accountName).to.match(/^[a-z0-9]{3,24}$/);
    });

    it(`uses RBAC on the Key Vault with soft delete, and purge protection ${stackName === "prod" ? "on" : "left unset"}`, function () {
      const vault = built.one(T.kv).inputs.properties;
      expect(vault.enableRbacAuthorization).to.equal(true);
      expect(vault.enableSoftDelete).to.equal(true);
      expect(vault.softDeleteRetentionInDays).to.equal(config.keyVault.softDeleteRetentionDays);
      if (stackName === "prod") expect(vault.enablePurgeProtection).to.equal(true);
      else expect(vault.enablePurgeProtection).to.equal(undefined);
    });

    it("disables the container registry's admin user", function () {
      expect(built.one(T.acr).inputs.adminUserEnabled).to.equal(false);
    });

    it("gives the workspace a system-assigned identity wired to storage, Key Vault, App Insights and ACR", async function () {
      const ws = built.one(T.mlw).inputs;
      const { workspace } = built.stack.components;
      expect(ws.identity).to.deep.equal({ type: "SystemAssigned" });
      expect(ws.storageAccount).to.equal(await unwrap(workspace.storageAccount.id));
      expect(ws.keyVault).to.equal(await unwrap(workspace.keyVault.id));
      expect(ws.applicationInsights).to.equal(await unwrap(workspace.appInsights.id));
      expect(ws.containerRegistry).to.equal(await unwrap(workspace.containerRegistry.id));
      const appi = built.one(T.appi).inputs;
      expect(appi.workspaceResourceId).to.equal(await unwrap(workspace.logAnalytics.id));
    });

    it("sizes the training cluster's autoscale exactly as mlops:training says", function () {
      const aml = computeOfType(built, "AmlCompute").inputs.properties.properties;
      expect(aml.vmSize).to.equal(config.training.vmSize);
      expect(aml.vmPriority).to.equal(config.training.vmPriority);
      expect(aml.scaleSettings).to.deep.equal({
        minNodeCount: config.training.minNodes,
        maxNodeCount: config.training.maxNodes,
        nodeIdleTimeBeforeScaleDown: config.training.idleScaleDown,
      });
    });

    it("creates AKS with a system-assigned identity, local accounts enabled and the configured node pool", function () {
      const aks = built.one(T.aks).inputs;
      expect(aks.identity).to.deep.equal({ type: "SystemAssigned" });
      expect(aks.servicePrincipalProfile).to.equal(undefined);
      expect(aks.disableLocalAccounts).to.equal(false);
      expect(aks.agentPoolProfiles).to.have.length(1);
      expect(aks.agentPoolProfiles[0]).to.include({ vmSize: config.aks.vmSize, count: config.aks.nodeCount, mode: "System" });
    });

    it("installs the Azure ML extension with the settings Microsoft's installers give an AKS inference install", async function () {
      const ext = built.one(T.ext).inputs;
      expect(ext).to.include({
        extensionType: "Microsoft.AzureML.Kubernetes",
        clusterRp: "Microsoft.ContainerService",
        clusterResourceName: "managedClusters",
        releaseTrain: "stable",
      });
      expect(ext.identity).to.deep.equal({ type: "SystemAssigned" });
      expect(ext.scope).to.deep.equal({ cluster: { releaseNamespace: "azureml" } });
      expect(ext.clusterName).to.equal(built.one(T.aks).inputs.resourceName);
      const aksId = await unwrap(built.stack.components.inference.cluster.id);
      const ha = config.aks.nodeCount >= 3;
      // Azure/AML-Kubernetes files/deployextension.json (baseSettings, inferenceBase) and
      // azure-cli-extensions AzureMLKubernetes.py Create() for cluster_type managedClusters.
      expect(ext.configurationSettings).to.include({
        enableTraining: "False",
        enableInference: "True",
        clusterPurpose: ha ? "FastProd" : "DevTest",
        cluster_name: aksId,
        clusterId: aksId,
        "prometheus.prometheusSpec.externalLabels.cluster_name": aksId,
        domain: `${config.location}.cloudapp.azure.com`,
        location: config.location,
        jobSchedulerLocation: config.location,
        cluster_name_friendly: built.one(T.aks).inputs.resourceName,
        "servicebus.enabled": "false",
        "relayserver.enabled": "false",
        "nginxIngress.enabled": "true",
        inferenceRouterServiceType: config.aks.inferenceRouterServiceType,
        inferenceRouterHA: ha ? "True" : "False",
        allowInsecureConnections: config.aks.allowInsecureConnections ? "True" : "False",
      });
      for (const value of Object.values(ext.configurationSettings)) expect(value).to.be.a("string");
    });

    it("attaches AKS as Kubernetes compute (not legacy AKS) naming only its namespace, as az ml compute attach does", async function () {
      const k8s = computeOfType(built, "Kubernetes").inputs;
      expect(built.ofType(T.compute).map((c) => c.inputs.properties.computeType)).not.to.include("AKS");
      expect(k8s.properties.resourceId).to.equal(await unwrap(built.stack.components.inference.cluster.id));
      expect(k8s.properties.properties).to.deep.equal({ namespace: "default" });
      expect(k8s.identity).to.deep.equal({ type: "SystemAssigned" });
    });

    it("grants the compute identity AcrPull + Storage Blob Data Reader and the kubelet AcrPull", async function () {
      const { workspace } = built.stack.components;
      const acrId = await unwrap(workspace.containerRegistry.id);
      const storageId = await unwrap(workspace.storageAccount.id);
      const role = (guid: string) => `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
      const grants = built.ofType(T.role).map((r) => ({
        principalId: r.inputs.principalId,
        roleDefinitionId: r.inputs.roleDefinitionId,
        scope: r.inputs.scope,
        principalType: r.inputs.principalType,
      }));
      expect(grants).to.have.deep.members([
        { principalId: "aks-inference-principal-id", roleDefinitionId: role(BUILT_IN_ROLES.AcrPull), scope: acrId, principalType: "ServicePrincipal" },
        {
          principalId: "aks-inference-principal-id",
          roleDefinitionId: role(BUILT_IN_ROLES.StorageBlobDataReader),
          scope: storageId,
          principalType: "ServicePrincipal",
        },
        { principalId: "kubelet-object-id", roleDefinitionId: role(BUILT_IN_ROLES.AcrPull), scope: acrId, principalType: "ServicePrincipal" },
      ]);
    });

    it("creates the endpoint without deployments or traffic while no model version is configured", async function () {
      const endpoint = built.one(T.endpoint).inputs;
      expect(endpoint.properties.authMode).to.equal(config.serving.authMode);
      expect(endpoint.properties.compute).to.equal(await unwrap(built.stack.components.inference.computeId));
      expect(endpoint.properties.traffic).to.deep.equal({});
      expect(built.ofType(T.deployment)).to.have.length(0);
      expect(await unwrap(built.stack.outputs.trafficConverged)).to.equal(true);
    });

    it("declares only resources that pass every policy in the policy pack", async function () {
      expect(await packFindings(built.resources)).to.deep.equal([]);
    });

    it("exports what the release driver needs", async function () {
      const o = built.stack.outputs;
      expect(await unwrap(o.resourceGroupName)).to.equal(`rg-mlops-${stackName}`);
      expect(await unwrap(o.workspaceName)).to.equal(`mlw-mlops-${stackName}`);
      expect(await unwrap(o.workspaceId)).to.match(/\/providers\/Microsoft\.MachineLearningServices\/workspaces\/mlw-mlops-/);
      expect(await unwrap(o.mlflowTrackingUri)).to.equal(`azureml://mlflow.example/mlw-mlops-${stackName}`);
      expect(await unwrap(o.trainingComputeName)).to.equal("train-cluster");
      expect(await unwrap(o.endpointName)).to.match(new RegExp(`^ep-mlops-${stackName}-[0-9a-f]{8}$`));
      expect(await unwrap(o.scoringUri)).to.match(/\/score$/);
      expect(o.servedModel).to.deep.equal({ name: config.serving.model, deployments: {} });
    });
  });
}

describe("blue/green deployments from mlops:serving", function () {
  const blueGreen = { blue: { version: "3", weight: 90 }, green: { version: "4", weight: 10 } };

  it("references each deployment's model version as an Azure ML model asset id and applies the configured traffic once both exist", async function () {
    const built = await buildForTest("prod", {
      configOverrides: servingWith("prod", blueGreen),
      previousOutputs: { servingState: { model: "diabetes-ridge", deployments: { blue: { version: "3" }, green: { version: "4" } }, traffic: { blue: 100 } } },
    });
    const workspaceId = await unwrap(built.stack.outputs.workspaceId);
    const deployments = built.ofType(T.deployment);
    expect(deployments.map((d) => d.inputs.deploymentName)).to.have.members(["blue", "green"]);
    for (const d of deployments) {
      const version = blueGreen[d.inputs.deploymentName as "blue" | "green"].version;
      expect(d.inputs.properties.model).to.equal(`${workspaceId}/models/diabetes-ridge/versions/${version}`);
      expect(d.inputs.properties.endpointComputeType).to.equal("Kubernetes");
      expect(d.inputs.properties).not.to.have.property("instanceType");
      expect(d.inputs.properties.containerResourceRequirements).to.deep.equal({
        containerResourceRequests: { cpu: "500m", memory: "1Gi" },
        containerResourceLimits: { cpu: "1", memory: "1536Mi" },
      });
      expect(d.inputs.properties.scaleSettings).to.deep.equal({
        scaleType: "TargetUtilization",
        minInstances: 2,
        maxInstances: 4,
        targetUtilizationPercentage: 70,
        pollingInterval: "PT10S",
      });
      expect(d.inputs.properties.requestSettings).to.deep.equal({ requestTimeout: "PT5S", maxConcurrentRequestsPerInstance: 1, maxQueueWait: "PT0.5S" });
      expect(d.inputs.properties.livenessProbe).to.include({ initialDelay: "PT10S", period: "PT10S", timeout: "PT2S", failureThreshold: 30 });
      expect(d.inputs.properties.codeConfiguration.scoringScript).to.equal("score.py");
      expect(d.inputs.properties.codeConfiguration.codeId).to.equal(await unwrap(built.stack.components.serving.codeVersion.id));
      expect(d.inputs.properties.environmentId).to.equal(await unwrap(built.stack.components.serving.environmentVersion.id));
      expect(parentTypeOf(d)).to.equal(C.serving);
    }
    expect(built.one(T.endpoint).inputs.properties.traffic).to.deep.equal({ blue: 90, green: 10 });
    expect(await unwrap(built.stack.outputs.traffic)).to.deep.equal({ blue: 90, green: 10 });
    expect(await unwrap(built.stack.outputs.trafficConverged)).to.equal(true);
    expect(built.stack.outputs.servedModel).to.deep.equal({ name: "diabetes-ridge", deployments: blueGreen });
  });

  it("withholds traffic from a deployment created in the same update and reports it as not converged", async function () {
    const built = await buildForTest("int", {
      configOverrides: servingWith("int", { blue: { version: "1", weight: 100 } }),
    });
    expect(built.ofType(T.deployment)).to.have.length(1);
    expect(built.one(T.deployment).inputs.sku).to.deep.equal({ name: "Default", capacity: 1 });
    expect(built.one(T.endpoint).inputs.properties.traffic).to.deep.equal({});
    expect(await unwrap(built.stack.outputs.trafficConverged)).to.equal(false);
    const state = await unwrap(built.stack.outputs.servingState);
    expect(state.model).to.equal("diabetes-ridge");
    expect(state.traffic).to.deep.equal({});
    expect(state.deployments).to.have.keys(["blue"]);
    expect(state.deployments["blue"]).to.deep.equal({
      version: "1",
      codeId: await unwrap(built.stack.components.serving.codeVersion.id),
      environmentId: await unwrap(built.stack.components.serving.environmentVersion.id),
    });
  });

  it("keeps the previous split while a new green deployment is being created", async function () {
    const built = await buildForTest("prod", {
      configOverrides: servingWith("prod", blueGreen),
      previousOutputs: { servingState: { model: "diabetes-ridge", deployments: { blue: { version: "3" } }, traffic: { blue: 100 } } },
    });
    expect(built.one(T.endpoint).inputs.properties.traffic).to.deep.equal({ blue: 100 });
    expect(await unwrap(built.stack.outputs.trafficConverged)).to.equal(false);
  });
});

describe("code asset versioning", function () {
  const dir = tempDir("mlops-score-");
  const scoreA = join(dir, "a", "score.py");
  const scoreB = join(dir, "b", "score.py");
  const conda = join(dir, "conda.yml");
  before(function () {
    for (const [file, body] of [
      [scoreA, "def run(x):\n    return 1\n"],
      [scoreB, "def run(x):\n    return 2\n"],
    ] as const) {
      mkdirp(join(file, ".."));
      writeFileSync(file, body);
    }
    writeFileSync(conda, "name: test\ndependencies:\n  - python=3.11\n");
  });

  it("gives the code asset a new version and blob when score.py changes; a deployment being deployed runs it", async function () {
    const serving = servingWith("int", { blue: { version: "1", weight: 100 } });
    const a = await buildForTest("int", { configOverrides: serving, previousOutputs: {}, scoringScriptPath: scoreA, condaFilePath: conda });
    const codeA = servingOne(a, T.code).inputs;
    const blobA = servingOne(a, T.blob).inputs;
    const codeIdA = a.one(T.deployment).inputs.properties.codeConfiguration.codeId;
    const again = await buildForTest("int", { configOverrides: serving, previousOutputs: {}, scoringScriptPath: scoreA, condaFilePath: conda });
    const b = await buildForTest("int", { configOverrides: serving, previousOutputs: {}, scoringScriptPath: scoreB, condaFilePath: conda });
    const codeB = servingOne(b, T.code).inputs;

    expect(servingOne(again, T.code).inputs.version).to.equal(codeA.version);
    expect(codeB.version).not.to.equal(codeA.version);
    expect(codeA.name).to.equal(codeB.name);
    expect(servingOne(b, T.blob).inputs.blobName).not.to.equal(blobA.blobName);
    expect(b.one(T.deployment).inputs.properties.codeConfiguration.codeId).not.to.equal(codeIdA);
    expect(codeA.properties.codeUri).to.match(new RegExp(`^https://[a-z0-9]+\\.blob\\.storage\\.example/mlops-code/code/${codeA.version}$`));
    expect(blobA.blobName).to.equal(`code/${codeA.version}/score.py`);
  });

  it("inlines ml/conda.yml into the environment on the openmpi ubuntu22.04 base image", async function () {
    const built = await buildForTest("int", { scoringScriptPath: scoreA, condaFilePath: conda });
    const env = built.one(T.env).inputs;
    expect(env.properties.condaFile).to.equal("name: test\ndependencies:\n  - python=3.11\n");
    expect(env.properties.image).to.equal("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04");
    expect(env.version).to.match(/^[0-9a-f]{12}$/);
  });
});

import { mkdirSync } from "node:fs";
import { tempDir } from "../../support/tempDirs.js";
function mkdirp(path: string): void {
  mkdirSync(path, { recursive: true });
}
