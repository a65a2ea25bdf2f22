/**
 * In Azure Pipelines the azblob state backend must log in with the storage account key, not through the job's
 * federated token (which expires ~10 minutes into a multi-hour release): preflight says so in one line.
 */
import { expect } from "chai";
import { EnvironmentError } from "../../../driver/core/errors.js";
import { tempRepo } from "./support/harness.js";
import { fakePulumi, outputs, preflightIn } from "./support/preflightHarness.js";

describe("azure preflight in Azure Pipelines: a state-backend login that lasts", function () {
  this.timeout(20_000);
  let repo: ReturnType<typeof tempRepo>;
  beforeEach(() => {
    repo = tempRepo();
    fakePulumi(repo.root, "v3.276.0");
  });
  afterEach(() => repo.cleanup());
  const base = () => ({ HOME: repo.root, TF_BUILD: "True", PULUMI_BACKEND_URL: "azblob://state", PULUMI_CONFIG_PASSPHRASE: "p" });

  it("an azblob backend without AZURE_STORAGE_KEY in a pipeline job is one line naming the variable and its source", async () => {
    const err = await preflightIn(repo.root, base()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EnvironmentError);
    expect((err as Error).message.split("\n")).to.have.length(1);
    expect((err as Error).message).to.match(/^in Azure Pipelines the azblob Pulumi backend needs AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY/);
  });

  it("in GitHub Actions too: an azblob backend without the key is one line naming the variables and the GitHub set-up", async () => {
    const err = await preflightIn(repo.root, { ...base(), TF_BUILD: "", GITHUB_ACTIONS: "true" }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EnvironmentError);
    expect((err as Error).message).to.match(
      /^in GitHub Actions the azblob Pulumi backend needs AZURE_STORAGE_ACCOUNT \(variable\) and AZURE_STORAGE_KEY \(secret\).*docs\/github-actions\.md$/,
    );
    const withKey = await preflightIn(repo.root, { ...base(), TF_BUILD: "", GITHUB_ACTIONS: "true", AZURE_STORAGE_ACCOUNT: "acct", AZURE_STORAGE_KEY: "k" });
    expect(withKey).to.deep.equal(outputs);
  });

  it("a key without AZURE_STORAGE_ACCOUNT is not a shared-key login either (gocloud needs both)", async () => {
    const err = await preflightIn(repo.root, { ...base(), AZURE_STORAGE_KEY: "k" }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EnvironmentError);
  });

  it("with the key mapped (or outside a pipeline) the INT outputs are read", async () => {
    const withKey = await preflightIn(repo.root, { ...base(), AZURE_STORAGE_ACCOUNT: "acct", AZURE_STORAGE_KEY: "k" });
    expect(withKey).to.deep.equal(outputs);
    const laptop = await preflightIn(repo.root, { ...base(), TF_BUILD: "" });
    expect(laptop).to.deep.equal(outputs);
  });
});
