/**
 * Wiring for the azure doctor contract tests: a temporary repository (the real stack files), the loopback FakeAzure
 * with the doctor routes (fakeArmDoctor.ts), the real SDK clients pointed at it, and replaceable stack outputs.
 */
import https from "node:https";
import type { AddressInfo } from "node:net";
import { EnvironmentError } from "../../../driver/core/errors.js";
import type { StackName } from "../../../driver/core/release.js";
import { ArmRest } from "../../../driver/targets/azure/armRest.js";
import { azureDoctor } from "../../../driver/doctor/azure/azureDoctor.js";
import type { AzureDoctorDeps } from "../../../driver/doctor/azure/azureDoctorContext.js";
import type { CheckResult } from "../../../driver/doctor/checkResult.js";
import { readAzureSettings } from "../../../driver/targets/azure/azureSettings.js";
import { createMlClient } from "../../../driver/targets/azure/workspaceClients.js";
import { FakeAzure } from "../azure/support/fakeAzure.js";
import { selfSignedCert } from "../azure/support/loopbackTls.js";
import { DoctorCredential, FakeArmDoctor, STATE_ACCOUNT, STATE_CONTAINER, SUB } from "../azure/support/fakeArmDoctor.js";
import { tempRepo } from "../azure/support/harness.js";

export class DoctorHarness {
  fake!: FakeAzure;
  arm!: FakeArmDoctor;
  repo!: ReturnType<typeof tempRepo>;
  credential = new DoctorCredential();
  outputs = new Map<StackName, Record<string, unknown>>();
  env: NodeJS.ProcessEnv = {};
  deps!: AzureDoctorDeps;

  async start(): Promise<this> {
    this.fake = await new FakeAzure().start();
    this.arm = new FakeArmDoctor(this.fake);
    this.repo = tempRepo();
    this.env = {
      PULUMI_BACKEND_URL: `azblob://${STATE_CONTAINER}?storage_account=${STATE_ACCOUNT}`,
      PULUMI_CONFIG_PASSPHRASE: "not-a-real-one",
      ARM_SUBSCRIPTION_ID: SUB,
    };
    const settings = { ...readAzureSettings({}), armEndpoint: this.fake.url, credentialTimeoutMs: 2000 };
    this.deps = {
      credential: this.credential,
      settings,
      env: this.env,
      stackOutputs: async (stack) => {
        const o = this.outputs.get(stack);
        if (!o) throw new EnvironmentError(`Pulumi stack '${stack}' does not exist in the configured backend; create it with 'pulumi stack init ${stack}'`);
        return o;
      },
      pulumiCliVersion: async () => "3.276.0",
      azDefaultSubscription: async () => undefined,
      blobServiceUrl: (account) => `${this.fake.url}/${account}`,
      armClients: (sub) => {
        const ml = createMlClient({ credential: this.deps.credential, settings }, sub);
        return { ml, arm: new ArmRest(ml, settings.armEndpoint) };
      },
      now: () => new Date(),
    };
    return this;
  }

  /** Both stacks deployed (outputs as `pulumi stack output` gives them), scoring over TLS on the fake. */
  deployBoth(): void {
    for (const s of ["int", "prod"] as const) this.outputs.set(s, this.arm.deploy(s, `${this.fake.url}/score/${s}`));
  }

  async stop(): Promise<void> {
    this.repo.cleanup();
    await this.fake.stop();
  }

  run(stacks: readonly StackName[] = ["int", "prod"]): Promise<CheckResult[]> {
    this.deps.env = this.env;
    return azureDoctor(this.repo.root, stacks, this.deps);
  }
}

export const byCheck = (rs: CheckResult[], check: string): CheckResult => {
  const r = rs.find((x) => x.check === check);
  if (!r) throw new Error(`no result for ${check}: ${rs.map((x) => x.check).join(", ")}`);
  return r;
};
export const fails = (rs: CheckResult[]): string[] => rs.filter((r) => r.status === "FAIL").map((r) => r.check);
export const warns = (rs: CheckResult[]): string[] => rs.filter((r) => r.status === "warn").map((r) => r.check);

/** An https server whose certificate nobody trusts (a fresh self-signed one, not added to the CAs). */
export async function untrustedTlsServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const { key, cert } = selfSignedCert("/CN=untrusted.example", 30);
  const server = https.createServer({ key, cert }, (_req, res) => res.end("no"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/score`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
