import { expect } from "chai";
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { EnvironmentError } from "../../../driver/core/errors.js";
import { doctorExitCode, renderText } from "../../../driver/doctor/runChecks.js";
import { ROLE, STATE_ACCOUNT, STATE_CONTAINER, SUB, TENANT, clusterIdOf, wsIdOf } from "../azure/support/fakeArmDoctor.js";
import { byCheck, DoctorHarness, fails, untrustedTlsServer, warns } from "./azureDoctorHarness.js";

describe("mlops doctor --target azure (contract tests: the real SDK clients against the loopback ARM fake)", function () {
  this.timeout(30_000);
  let h: DoctorHarness;
  beforeEach(async () => (h = await new DoctorHarness().start()));
  afterEach(async () => h.stop());

  describe("all ok", () => {
    it("before the first up: every pre-up check ok, the stacks reported as not deployed, exit 0, nothing written to Azure", async () => {
      const rs = await h.run();
      expect(fails(rs)).to.deep.equal([]);
      expect(warns(rs)).to.deep.equal(["stack[int]", "stack[prod]"]);
      expect(doctorExitCode(rs)).to.equal(0);
      expect(rs.map((r) => r.check)).to.include.members([
        "credential",
        "subscription",
        "pulumi-cli",
        "backend",
        "providers",
        "quota-aks[westeurope]",
        "quota-training[westeurope]",
        "roles[int]",
        "roles[prod]",
      ]);
      expect(rs.map((r) => r.check).some((c) => /^(aml-extension|k8s-compute|endpoint|scoring-tls)/.test(c))).to.equal(false);
      expect(byCheck(rs, "credential").detail).to.equal(
        `user alice@contoso.example, object id 99999999-8888-7777-6666-555555555555, tenant ${TENANT}, token valid 60 more min`,
      );
      expect(byCheck(rs, "quota-aks[westeurope]").detail).to.match(/need 16 vCPU for int: 1 x 4, prod: 3 x 4/);
      expect(byCheck(rs, "quota-training[westeurope]").detail).to.match(/need 32 vCPU at maxNodes/);
      // read-only: only GETs (and no token in any output)
      expect(new Set(h.fake.requests.map((r) => r.method))).to.deep.equal(new Set(["GET"]));
      const text = renderText(rs);
      const token = (await h.credential.getToken("https://management.azure.com/.default")).token;
      expect(text).not.to.include(token.split(".")[1]!);
    });

    it("calls each ARM operation with the api-version Microsoft documents for it and the ARM audience", async () => {
      h.deployBoth();
      await h.run();
      const seen = new Map<string, string>();
      for (const r of h.fake.requests.filter((x) => x.path.startsWith("/subscriptions/"))) {
        const op = r.path
          .replace(/\/subscriptions\/[^/]+/, "/subscriptions/{sub}")
          .replace(/resourceGroups\/[^/]+/, "resourceGroups/{rg}")
          .replace(/(workspaces|managedClusters|onlineEndpoints|computes|providers)\/(?!Microsoft)[^/]+/g, "$1/{name}")
          .replace(/locations\/[^/]+/, "locations/{loc}");
        seen.set(
          op.replace(
            /providers\/Microsoft\.(MachineLearningServices|ContainerService|KubernetesConfiguration|Insights|OperationalInsights|Storage|KeyVault|ContainerRegistry)$/,
            "providers/{namespace}",
          ),
          r.query["api-version"]!,
        );
      }
      expect(Object.fromEntries(seen)).to.deep.include({
        "/subscriptions/{sub}": "2022-12-01",
        "/subscriptions/{sub}/providers/{namespace}": "2021-04-01",
        "/subscriptions/{sub}/providers/Microsoft.Compute/skus": "2021-07-01",
        "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/usages": "2024-07-01",
        "/subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{loc}/usages": "2022-10-01",
        "/subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{loc}/vmSizes": "2022-10-01",
        "/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments": "2022-04-01",
      });
      const ext = h.fake.requests.find((r) => r.path.endsWith("/providers/Microsoft.KubernetesConfiguration/extensions"))!;
      expect(ext.path).to.equal(`${clusterIdOf("int")}/providers/Microsoft.KubernetesConfiguration/extensions`);
      expect(ext.query["api-version"]).to.equal("2023-05-01");
      const roles = h.fake.requests.find((r) => r.path.endsWith("/roleAssignments"))!;
      expect(roles.query.$filter).to.equal("assignedTo('99999999-8888-7777-6666-555555555555')");
      expect(
        h.credential.scopes.filter((s) => s !== "https://storage.azure.com/.default").every((s) => s === "https://management.azure.com/.default"),
      ).to.equal(true);
    });

    it("after up: the extension, compute, instance types, endpoint and TLS scoring URI all checked; exit 0", async () => {
      h.deployBoth();
      const rs = await h.run();
      expect(fails(rs)).to.deep.equal([]);
      for (const s of ["int", "prod"]) {
        expect(byCheck(rs, `aml-extension[${s}]`).detail).to.equal("extension 'azureml' Succeeded (version 1.1.64)");
        expect(byCheck(rs, `k8s-compute[${s}]`).status).to.equal("ok");
        expect(byCheck(rs, `instance-types[${s}]`).detail).to.match(/^defaultinstancetype listed .*needs 'kubectl get instancetype'/);
        expect(byCheck(rs, `training-capacity[${s}]`).detail).to.match(
          /^compute cpu-cluster: STANDARD_D3_V2 Dedicated, 0-4 nodes, idle PT120S, as the stack file says$/,
        );
        expect(byCheck(rs, `endpoint[${s}]`).detail).to.match(/Succeeded, authMode Key, on aks-inference$/);
        // the loopback certificate lives 2 days: TLS ok, expiry warned
        expect(byCheck(rs, `scoring-tls[${s}]`).detail).to.match(/TLS ok, certificate 127\.0\.0\.1 valid until .*no request sent/);
      }
      expect(warns(rs)).to.deep.equal(["scoring-tls[int]", "scoring-tls[prod]"]);
      expect(h.fake.requests.filter((r) => r.path.startsWith("/score/"))).to.have.length(0); // handshake only, no request, no key
    });

    it("--json: an array of {check, status, detail, fix}", async () => {
      const rs = JSON.parse(JSON.stringify(await h.run(["int"]))) as unknown[];
      expect(rs.length).to.be.greaterThan(5);
      for (const r of rs) expect(Object.keys(r as object).sort()).to.deep.equal(["check", "detail", "fix", "status"]);
      expect(rs).to.deep.include({
        check: "stack[int]",
        status: "warn",
        detail: "outputs not readable (Pulumi stack 'int' does not exist in the configured backend)",
        fix: "before the first 'pulumi up' this is expected; the checks after up are skipped",
      });
    });

    it("text: one line per check, 'ok  ' / 'warn' / 'FAIL' then the check name, and a summary", async () => {
      h.arm.providers.set("microsoft.keyvault", "NotRegistered");
      const text = renderText(await h.run(["int"]));
      const lines = text.split("\n");
      expect(lines.filter((l) => l).every((l) => /^(ok  |warn|FAIL) [a-z-]+(\[[a-z0-9]+\])?: /.test(l) || /^\d+ checks: \d+ FAIL, \d+ warn$/.test(l))).to.equal(
        true,
      );
      expect(lines).to.include(
        "FAIL providers: not registered: Microsoft.KeyVault (NotRegistered); az provider register --namespace Microsoft.KeyVault (needs Contributor on the subscription; takes a few minutes)",
      );
    });
  });

  describe("each FAIL, with what to do (exit 8)", () => {
    const expectFail = (rs: Awaited<ReturnType<DoctorHarness["run"]>>, check: string, detail: RegExp, fix?: RegExp): void => {
      const r = byCheck(rs, check);
      expect(r.status, `${check}: ${r.detail}`).to.equal("FAIL");
      expect(r.detail).to.match(detail);
      if (fix) expect(r.fix).to.match(fix);
      expect(doctorExitCode(rs)).to.equal(8);
    };

    it("credential: none found (every DefaultAzureCredential source unavailable)", async () => {
      h.deps.credential = { getToken: async () => Promise.reject(Object.assign(new Error("no"), { name: "CredentialUnavailableError" })) };
      const rs = await h.run();
      expectFail(rs, "credential", /^no Azure credential: DefaultAzureCredential found no workload identity/, /az login/);
      expect(byCheck(rs, "subscription").detail).to.match(/^not checked/);
    });

    it("subscription: none resolvable (no stack setting, no ARM_SUBSCRIPTION_ID, no az default)", async () => {
      delete h.env.ARM_SUBSCRIPTION_ID;
      expectFail(await h.run(), "subscription", /no subscription for stack 'int', 'prod'/, /ARM_SUBSCRIPTION_ID/);
    });

    it("subscription: azure-native:subscriptionId in the stack file wins over ARM_SUBSCRIPTION_ID, and one the credential cannot see FAILs", async () => {
      const other = "12345678-1234-1234-1234-123456789012";
      for (const s of ["int", "prod"]) {
        const f = path.join(h.repo.root, `Pulumi.${s}.yaml`);
        writeFileSync(f, readFileSync(f, "utf8").replace("config:\n", `config:\n  azure-native:subscriptionId: ${other}\n`));
      }
      expectFail(
        await h.run(),
        "subscription",
        new RegExp(
          `^${other} \\(from azure-native:subscriptionId in Pulumi\\.int\\.yaml\\) is not visible to alice@contoso\\.example \\(HTTP 404 SubscriptionNotFound\\)`,
        ),
        /az login --tenant/,
      );
    });

    it("subscription: disabled", async () => {
      h.arm.subscriptions.get(SUB)!.state = "Disabled";
      expectFail(await h.run(), "subscription", /^MLOps trial is Disabled/);
    });

    it("subscription: in another tenant than the token", async () => {
      h.arm.subscriptions.get(SUB)!.tenantId = "ffffffff-ffff-ffff-ffff-ffffffffffff";
      expectFail(await h.run(), "subscription", /belongs to tenant ffffffff-.*token to tenant aaaaaaaa-/, /az login --tenant ffffffff/);
    });

    it("subscription: the Azure CLI default is used when nothing else is set, and AZURE_SUBSCRIPTION_ID (which pulumi ignores) is flagged", async () => {
      delete h.env.ARM_SUBSCRIPTION_ID;
      h.env.AZURE_SUBSCRIPTION_ID = "12345678-1234-1234-1234-123456789012";
      h.deps.azDefaultSubscription = async () => SUB;
      const r = byCheck(await h.run(), "subscription");
      expect(r.status).to.equal("warn");
      expect(r.detail).to.match(/from the Azure CLI's default subscription .*AZURE_SUBSCRIPTION_ID \(12345678-.*\) differs and is ignored by pulumi/);
    });

    it("stack-config: an invalid Pulumi.<stack>.yaml names the key", async () => {
      const f = path.join(h.repo.root, "Pulumi.prod.yaml");
      writeFileSync(f, readFileSync(f, "utf8").replace("authMode: Key", "authMode: Password"));
      expectFail(await h.run(), "stack-config[prod]", /mlops:serving\.authMode \("Password"\) must be one of/, /fix Pulumi\.prod\.yaml/);
    });

    it("pulumi-cli: not found", async () => {
      h.deps.pulumiCliVersion = async () => {
        throw new EnvironmentError(
          "the pulumi CLI was not found on PATH; install Pulumi >= 3.100.0 (or build it with scripts/build-pulumi.sh into .tools/bin) and run again",
        );
      };
      expectFail(await h.run(), "pulumi-cli", /^the pulumi CLI was not found on PATH$/, /^install Pulumi >= 3\.100\.0/);
    });

    it("pulumi-cli: older than the SDK is a warning", async () => {
      h.deps.pulumiCliVersion = async () => "3.206.0";
      const r = byCheck(await h.run(), "pulumi-cli");
      expect([r.status, r.detail]).to.deep.equal(["warn", "pulumi 3.206.0 (>= 3.100.0), older than the @pulumi/pulumi SDK 3.276.0 the program runs with"]);
    });

    it("backend: none configured", async () => {
      delete h.env.PULUMI_BACKEND_URL;
      h.env.HOME = h.repo.root; // no ~/.pulumi login there
      expectFail(await h.run(), "backend", /^no Pulumi backend/, /PULUMI_BACKEND_URL=azblob:/);
    });

    it("backend: a passphrase-secrets stack without PULUMI_CONFIG_PASSPHRASE", async () => {
      delete h.env.PULUMI_CONFIG_PASSPHRASE;
      expectFail(await h.run(), "backend", /keeps secrets with a passphrase and none is set/, /PULUMI_CONFIG_PASSPHRASE/);
    });

    it("backend: a backend it cannot probe (s3://) without the passphrase is one FAIL, not a FAIL and an ok", async () => {
      delete h.env.PULUMI_CONFIG_PASSPHRASE;
      h.env.PULUMI_BACKEND_URL = "s3://x";
      const lines = (await h.run()).filter((r) => r.check === "backend").map((r) => `${r.status} ${r.detail}`);
      expect(lines).to.deep.equal(["FAIL s3://x keeps secrets with a passphrase and none is set"]);
    });

    it("backend: the state container does not exist", async () => {
      h.arm.stateContainer = "absent";
      expectFail(
        await h.run(),
        "backend",
        new RegExp(`container '${STATE_CONTAINER}' does not exist \\(ContainerNotFound\\)`),
        /az storage container create -n pulumi-state --account-name stateacct/,
      );
    });

    it("backend: the identity has no blob data role on the state account", async () => {
      h.arm.stateContainer = "deny";
      expectFail(await h.run(), "backend", /access refused with Azure AD \(HTTP 403 AuthorizationPermissionMismatch\)/, /Storage Blob Data Contributor/);
    });

    it("backend: an expired SAS token", async () => {
      h.env.AZURE_STORAGE_SAS_TOKEN = "sv=2025-01-05&se=2026-01-01T00%3A00%3A00Z&sr=c&sp=rwl&sig=abc";
      expectFail(await h.run(), "backend", /the SAS token expired at 2026-01-01/, /new SAS token/);
      expect(h.arm.stateAuth).to.deep.equal([]);
    });

    it("backend: an account key lasts (Shared Key auth is what reaches the container)", async () => {
      h.env.AZURE_STORAGE_KEY = Buffer.from("not-a-real-key").toString("base64");
      const r = byCheck(await h.run(), "backend");
      expect([r.status, r.detail]).to.deep.equal([
        "ok",
        `azblob ${STATE_ACCOUNT}/${STATE_CONTAINER} reachable with account key (AZURE_STORAGE_KEY; does not expire, rotate it from Key Vault)`,
      ]);
      expect(h.arm.stateAuth).to.deep.equal(["sharedkey"]);
    });

    it("backend and credential: a static federated token file is warned about (it expires in ~10 minutes)", async () => {
      h.env.AZURE_FEDERATED_TOKEN_FILE = "/tmp/token";
      const rs = await h.run();
      expect(byCheck(rs, "backend").status).to.equal("warn");
      expect(byCheck(rs, "backend").detail).to.match(/expires after about 10 minutes \(Azure\/azure-cli#28708\)/);
      expect(byCheck(rs, "credential").status).to.equal("warn");
    });

    it("backend: a file backend that does not exist", async () => {
      h.env.PULUMI_BACKEND_URL = "file:///nonexistent/state";
      expectFail(await h.run(), "backend", /^file backend \/nonexistent\/state does not exist$/);
    });

    it("stack: deployed in another subscription than pulumi now points at", async () => {
      h.deployBoth();
      const other = "12345678-1234-1234-1234-123456789012";
      h.outputs.set("prod", { ...h.outputs.get("prod"), workspaceId: wsIdOf("prod").replace(SUB, other) });
      expectFail(
        await h.run(),
        "stack[prod]",
        new RegExp(`deployed in subscription ${other}, but ARM_SUBSCRIPTION_ID now points pulumi at ${SUB}`),
        new RegExp(`ARM_SUBSCRIPTION_ID=${other}`),
      );
    });

    it("providers: one not registered", async () => {
      h.arm.providers.set("microsoft.kubernetesconfiguration", "NotRegistered");
      expectFail(
        await h.run(),
        "providers",
        /^not registered: Microsoft\.KubernetesConfiguration \(NotRegistered\)$/,
        /^az provider register --namespace Microsoft\.KubernetesConfiguration/,
      );
    });

    it("providers: a private stack also needs Microsoft.Network (its VNet, private endpoints and DNS zones)", async () => {
      const f = path.join(h.repo.root, "Pulumi.prod.yaml");
      writeFileSync(f, readFileSync(f, "utf8").replace("config:\n", "config:\n  mlops:network:\n    private: true\n"));
      expectFail(await h.run(), "providers", /^not registered: Microsoft\.Network \(NotRegistered\)$/, /^az provider register --namespace Microsoft\.Network /);
      // only for the stacks checked: INT is not private, so checking INT alone does not ask for it
      expect(byCheck(await h.run(["int"]), "providers").status).to.equal("ok");
      h.arm.providers.set("microsoft.network", "Registered");
      expect(byCheck(await h.run(), "providers").detail).to.match(/^9 registered: .*Microsoft\.Network$/);
    });

    it("quota: the AKS VM family has too few vCPUs left (trial subscription: 6)", async () => {
      h.arm.computeUsages[1] = { name: { value: "standardDSv3Family", localizedValue: "Standard DSv3 Family vCPUs" }, currentValue: 0, limit: 6 };
      expectFail(
        await h.run(),
        "quota-aks[westeurope]",
        /Standard_D4s_v3 \(Standard DSv3 Family vCPUs\): need 16 vCPU .*family 0\/6 used/,
        /request a quota increase for Standard DSv3 Family vCPUs in westeurope/,
      );
    });

    it("quota: the total regional vCPUs are used up", async () => {
      h.arm.computeUsages[0] = { name: { value: "cores", localizedValue: "Total Regional vCPUs" }, currentValue: 98, limit: 100 };
      expectFail(await h.run(["int"]), "quota-aks[westeurope]", /need 4 vCPU .*regional 98\/100 used/);
    });

    it("quota: the AKS VM size is restricted for the subscription in the region", async () => {
      h.arm.skus[0]!.restrictions = [{ type: "Location", reasonCode: "NotAvailableForSubscription", values: ["westeurope"] }];
      expectFail(await h.run(), "quota-aks[westeurope]", /Standard_D4s_v3 is restricted for this subscription in westeurope \(NotAvailableForSubscription\)/);
    });

    it("quota: the AKS VM size is not offered in the region", async () => {
      h.arm.skus = h.arm.skus.filter((s) => s.name !== "Standard_D4s_v3");
      expectFail(await h.run(), "quota-aks[westeurope]", /VM size Standard_D4s_v3 \(mlops:aks\.vmSize of 'int'\) is not offered in westeurope/);
    });

    it("quota: Azure ML's own family quota is below the training clusters' maxNodes (separate from VM quota)", async () => {
      h.arm.mlUsages[1] = {
        name: { value: "Standard Dv2 Family Cluster Dedicated vCPUs", localizedValue: "Standard Dv2 Family Cluster Dedicated vCPUs" },
        currentValue: 0,
        limit: 24,
      };
      expectFail(
        await h.run(),
        "quota-training[westeurope]",
        /need 32 vCPU at maxNodes .*family 0\/24 used/,
        /Azure ML quota increase for Standard Dv2 Family Cluster Dedicated vCPUs/,
      );
      expect(byCheck(await h.run(), "quota-aks[westeurope]").status).to.equal("ok"); // the Compute quota of that family is untouched
    });

    it("quota: the training VM size is not one Azure ML offers", async () => {
      h.arm.mlVmSizes = [];
      expectFail(await h.run(), "quota-training[westeurope]", /STANDARD_D3_V2 \(mlops:training\.vmSize of 'int'\) is not a size Azure ML offers in westeurope/);
    });

    it("roles: Reader only: no right to deploy or to create role assignments, with the az commands to fix it", async () => {
      h.arm.roleAssignments = [{ scope: `/subscriptions/${SUB}`, role: ROLE.Reader }];
      const rs = await h.run(["int"]);
      expectFail(
        rs,
        "roles[int]",
        /holds none of the needed roles; missing: Contributor or Owner at \/subscriptions\/.* \(create and change the resources/,
        /az role assignment create --assignee-object-id 99999999-8888-7777-6666-555555555555 --role "Contributor" --scope \/subscriptions\//,
      );
    });

    it("roles: Contributor + RBAC Administrator at the subscription, no blob data role: before up a warning, after up a FAIL", async () => {
      h.arm.roleAssignments = [
        { scope: `/subscriptions/${SUB}`, role: ROLE.Contributor },
        { scope: `/subscriptions/${SUB}`, role: ROLE.Rbac },
      ];
      const before = byCheck(await h.run(["int"]), "roles[int]");
      expect(before.status).to.equal("warn");
      expect(before.detail).to.match(/missing: Storage Blob Data Contributor or Storage Blob Data Owner for blobs .*assign after the first up/);
      h.deployBoth();
      expectFail(
        await h.run(["int"]),
        "roles[int]",
        /missing: Storage Blob Data Contributor or Storage Blob Data Owner at \/subscriptions\/.*\/resourceGroups\/rg-mlops-int\/providers\/Microsoft\.Storage\/storageAccounts\/mlopsintst[0-9a-f]{8}/,
      );
    });

    it("roles: a custom role at a covering scope turns a missing role into a warning (its actions are not expanded)", async () => {
      const customRole = "11111111-2222-3333-4444-555555555555";
      h.arm.customRoles.add(customRole);
      h.arm.roleAssignments = [{ scope: `/subscriptions/${SUB}`, role: customRole }];
      const r = byCheck(await h.run(["int"]), "roles[int]");
      expect(r.status).to.equal("warn");
      expect(r.detail).to.match(/a custom role at a covering scope may grant it: check its actions/);
    });

    it("roles: a group's assignment counts (assignedTo includes groups) and an RG-scoped one covers the RG's resources", async () => {
      h.deployBoth();
      h.arm.roleAssignments = [
        { scope: `/subscriptions/${SUB}/resourceGroups/rg-mlops-int`, role: ROLE.Owner },
        { scope: `/subscriptions/${SUB}/resourceGroups/rg-mlops-int`, role: ROLE.BlobContributor },
      ];
      expect(byCheck(await h.run(["int"]), "roles[int]").status).to.equal("ok");
    });

    it("aml-extension: not installed on the cluster", async () => {
      h.deployBoth();
      h.arm.extensions.set(clusterIdOf("int").toLowerCase(), []);
      expectFail(await h.run(), "aml-extension[int]", /no Microsoft\.AzureML\.Kubernetes extension on aks-mlops-int/);
    });

    it("aml-extension: Failed, with the extension's own error status", async () => {
      h.deployBoth();
      const ext = h.arm.extensions.get(clusterIdOf("prod").toLowerCase())![0]!;
      ext.properties = {
        extensionType: "Microsoft.AzureML.Kubernetes",
        provisioningState: "Failed",
        statuses: [{ code: "InstallationFailed", level: "Error", message: "ExtensionOperationFailed: pod healthcheck failed" }],
      };
      expectFail(
        await h.run(),
        "aml-extension[prod]",
        /extension 'azureml' Failed: ExtensionOperationFailed: pod healthcheck failed/,
        /kubectl get pods -n azureml/,
      );
    });

    it("aml-extension: not Succeeded even without an error status (e.g. still Creating)", async () => {
      h.deployBoth();
      const ext = h.arm.extensions.get(clusterIdOf("int").toLowerCase())![0]!;
      ext.properties = { extensionType: "Microsoft.AzureML.Kubernetes", provisioningState: "Creating", statuses: [] };
      expectFail(await h.run(["int"]), "aml-extension[int]", /^extension 'azureml' Creating$/);
    });

    it("k8s-compute: attach Failed, with its provisioning error", async () => {
      h.deployBoth();
      const c = h.arm.computes.get(`${wsIdOf("int")}/computes/aks-inference`.toLowerCase())!;
      (c.properties as Record<string, unknown>).provisioningState = "Failed";
      (c.properties as Record<string, unknown>).provisioningErrors = [{ error: { code: "BadRequest", message: "extension not healthy" } }];
      expectFail(await h.run(), "k8s-compute[int]", /compute aks-inference is Failed: extension not healthy/);
    });

    it("instance-types: a failed deployment whose instance type the compute does not list FAILs, naming the likely cause", async () => {
      h.deployBoth();
      const deps = [...h.arm.deployments.entries()].find(([k]) => k.startsWith(wsIdOf("prod").toLowerCase()))![1];
      Object.assign(deps[0]!.properties as Record<string, unknown>, { instanceType: "gpu-large", provisioningState: "Failed" });
      expectFail(
        await h.run(["prod"]),
        "instance-types[prod]",
        /^gpu-large \(deployment blue is Failed\): not on compute aks-inference \(the compute lists defaultinstancetype\), the likely cause$/,
        /create the InstanceType resource in the cluster/,
      );
    });

    it("instance-types: a name missing from the compute's map with a healthy deployment is a warning (ARM may not mirror the cluster)", async () => {
      h.deployBoth();
      const deps = [...h.arm.deployments.entries()].find(([k]) => k.startsWith(wsIdOf("int").toLowerCase()))![1];
      (deps[0]!.properties as Record<string, unknown>).instanceType = "gpu-large";
      const r = byCheck(await h.run(["int"]), "instance-types[int]");
      expect(r.status).to.equal("warn");
      expect(r.detail).to.match(/^gpu-large \(deployment blue\) not in compute aks-inference's map/);
      expect(r.fix).to.match(/kubectl get instancetype/);
    });

    it("endpoint: AADToken on a Kubernetes endpoint (managed endpoints only)", async () => {
      h.deployBoth();
      (h.arm.endpointOf("int").properties as Record<string, unknown>).authMode = "AADToken";
      expectFail(await h.run(), "endpoint[int]", /uses authMode AADToken, which Kubernetes online endpoints do not support/, /Key or AMLToken/);
    });

    it("endpoint: the endpoint and a deployment not Succeeded", async () => {
      h.deployBoth();
      (h.arm.endpointOf("prod").properties as Record<string, unknown>).provisioningState = "Failed";
      const deps = [...h.arm.deployments.entries()].find(([k]) => k.startsWith(wsIdOf("prod").toLowerCase()))![1];
      (deps[0]!.properties as Record<string, unknown>).provisioningState = "Failed";
      const rs = await h.run(["prod"]);
      const lines = rs.filter((r) => r.check === "endpoint[prod]").map((r) => `${r.status} ${r.detail}`);
      expect(lines).to.deep.equal(["FAIL endpoint ep-mlops-prod-1234abcd is Failed", "FAIL deployment blue is Failed"]);
    });

    it("scoring-tls: PROD over http FAILs (the key would cross the network in clear text); INT over http only warns", async () => {
      h.deployBoth();
      for (const s of ["int", "prod"] as const) h.outputs.set(s, { ...h.outputs.get(s), scoringUri: `http://20.1.2.3/api/v1/endpoint/x/score` });
      const rs = await h.run();
      expectFail(rs, "scoring-tls[prod]", /^http:\/\/20\.1\.2\.3 serves over http: the endpoint key would cross the network in clear text$/, /sslCname/);
      expect(byCheck(rs, "scoring-tls[int]").status).to.equal("warn");
    });

    it("scoring-tls: a certificate nobody trusts fails the handshake (nothing sent)", async () => {
      h.deployBoth();
      const bad = await untrustedTlsServer();
      try {
        h.outputs.set("prod", { ...h.outputs.get("prod"), scoringUri: bad.url });
        expectFail(
          await h.run(["prod"]),
          "scoring-tls[prod]",
          /TLS handshake failed \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/,
        );
      } finally {
        await bad.close();
      }
    });

    it("an ARM error on a resource is one FAIL line for that stack, not a crash", async () => {
      h.deployBoth();
      h.fake.fault("GET", /\/computes\/aks-inference$/, 403, {}, 10);
      const rs = await h.run(["int"]);
      expectFail(rs, "k8s-compute[int]", /^ARM call failed: HTTP 403/);
      expect(byCheck(rs, "endpoint[int]").status).to.equal("ok");
    });
  });

  describe("training cluster read back after up (audit: PUT does not update an existing AmlCompute)", () => {
    it("training-capacity: Azure kept other scale settings than the stack file: a warning naming them and the az command that applies them", async () => {
      h.deployBoth();
      const c = h.arm.computes.get(`${wsIdOf("prod")}/computes/cpu-cluster`.toLowerCase())! as {
        properties: { properties: { scaleSettings: Record<string, unknown> } };
      };
      Object.assign(c.properties.properties.scaleSettings, { minNodeCount: 1, maxNodeCount: 2 });
      const rs = await h.run(["prod"]);
      const r = byCheck(rs, "training-capacity[prod]");
      expect(r.status).to.equal("warn");
      expect(r.detail).to.equal(
        "stack 'prod': the training cluster 'cpu-cluster' in Azure kept minNodes 1 (stack file: 0), maxNodes 2 (stack file: 4); pulumi up does not update an existing AmlCompute (Azure/bicep#17617)",
      );
      expect(r.fix).to.equal(
        "run 'az ml compute update --name cpu-cluster --resource-group rg-mlops-prod --workspace-name mlw-mlops-prod --min-instances 0 --max-instances 4'",
      );
      expect(doctorExitCode(rs)).to.equal(0);
    });

    it("training-capacity: a VM size Azure kept cannot change in place: the fix says to recreate the cluster", async () => {
      h.deployBoth();
      const c = h.arm.computes.get(`${wsIdOf("int")}/computes/cpu-cluster`.toLowerCase())! as { properties: { properties: { vmSize: string } } };
      c.properties.properties.vmSize = "STANDARD_DS2_V2";
      const r = byCheck(await h.run(["int"]), "training-capacity[int]");
      expect(r.status).to.equal("warn");
      expect(r.fix).to.match(
        /^vmSize cannot change on an existing cluster: delete compute 'cpu-cluster' \(when no job runs\) and run 'pulumi up --stack int' to recreate it$/,
      );
    });
  });
});
