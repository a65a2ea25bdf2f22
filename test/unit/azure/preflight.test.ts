import { expect } from "chai";
import { ConcurrentUpdateError, StackNotFoundError } from "@pulumi/pulumi/automation/index.js";
import { EnvironmentError, ReleaseLockedError } from "../../../driver/core/errors.js";
import { mapPulumiError } from "../../../driver/pulumi/pulumiErrors.js";
import { configuredBackend } from "../../../driver/pulumi/pulumiCli.js";
import { preflight } from "../../../driver/targets/azure/preflight.js";
import { tempRepo } from "./support/harness.js";
import { fakePulumi, outputs, preflightIn, settings, updater } from "./support/preflightHarness.js";

/** The Automation API's errors have internal constructors; the mapping only looks at the class and the text. */
const pulumiError = <T extends object>(cls: { prototype: T }, message: string): T => Object.assign(Object.create(cls.prototype) as T, { message });

describe("azure preflight: the first missing thing, one line", function () {
  this.timeout(20_000);
  let repo: ReturnType<typeof tempRepo>;
  beforeEach(() => (repo = tempRepo()));
  afterEach(() => repo.cleanup());

  it("a credential that never answers is reported after the time limit, not hung on", async () => {
    const hang = { getToken: () => new Promise<null>(() => undefined) };
    const t0 = Date.now();
    const err = await preflight({ repoRoot: repo.root, credential: hang, settings, updater, checkPulumi: true, env: {} }).catch((e: unknown) => e);
    expect(Date.now() - t0).to.be.below(2000);
    expect(err).to.be.instanceOf(EnvironmentError);
    expect((err as Error).message).to.match(/^no Azure credential within 0 s \(DefaultAzureCredential did not answer\); run 'az login'/);
  });

  it("a pulumi CLI older than the supported minimum is named with its version", async () => {
    fakePulumi(repo.root, "v3.50.0");
    const err = await preflightIn(repo.root, {}).catch((e: unknown) => e);
    expect((err as Error).message).to.equal("the pulumi CLI is version 3.50.0, older than 3.100.0; upgrade it and run again");
  });

  it("no backend configured (no PULUMI_BACKEND_URL, no login) is reported with the fix", async () => {
    fakePulumi(repo.root, "v3.200.0");
    const err = await preflightIn(repo.root, { HOME: repo.root }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal(
      "no Pulumi backend is configured: set PULUMI_BACKEND_URL (e.g. azblob://<container>?storage_account=<account>) or run 'pulumi login'; see docs/azure-target.md",
    );
  });

  it("a self-managed backend without the secrets passphrase is reported; with it, the INT outputs are read", async () => {
    fakePulumi(repo.root, "v3.200.0");
    const env = { HOME: repo.root, PULUMI_BACKEND_URL: "azblob://state?storage_account=acct" };
    const err = await preflightIn(repo.root, env).catch((e: unknown) => e);
    expect((err as Error).message).to.match(/^the Pulumi backend azblob:\/\/state keeps secrets with a passphrase: set PULUMI_CONFIG_PASSPHRASE/);
    expect(await preflightIn(repo.root, { ...env, PULUMI_CONFIG_PASSPHRASE: "x" })).to.deep.equal(outputs);
    expect(configuredBackend(env)).to.equal("azblob://state"); // the query (account name) is not echoed
  });

  it("Automation API errors map to typed one-line errors: stack lock, missing stack", () => {
    const lock = mapPulumiError(pulumiError(ConcurrentUpdateError, "error: [409] Conflict: Another update is currently in progress."), "int", "up");
    expect(lock).to.be.instanceOf(ReleaseLockedError);
    expect(lock.message).to.equal(
      "stack 'int' is locked by another update (pulumi up); wait for it to finish, or run 'pulumi cancel --stack int' if that update is gone",
    );
    const missing = mapPulumiError(pulumiError(StackNotFoundError, "error: no stack named 'prod' found"), "prod", "stack select");
    expect(missing).to.be.instanceOf(EnvironmentError);
    expect(missing.message).to.match(/^Pulumi stack 'prod' does not exist in the configured backend; create it with 'pulumi stack init prod'/);
    const other = mapPulumiError(new Error("Updating...\nerror: resource x failed: quota exceeded\nmore"), "int", "up");
    expect(other.message).to.equal("pulumi up on stack 'int' failed: resource x failed: quota exceeded; see the pulumi output above");
  });
});
