/**
 * .github/workflows/release.yml and pull-request.yml hold the set-up the azure target relies on
 * (docs/github-actions.md), and their scripts do what the chain needs when run as the runner runs them:
 * - the chain test -> release -> prod, the release id and outcome passed as job outputs, PROD only for a release
 *   awaiting approval, in the mlops-prod environment;
 * - the gate's "rejected" (exit 3) is a recorded outcome: output + job summary + warning, the step green;
 * - the stack-file edit committed back (rebased onto a concurrent push);
 * - Azure by OpenID Connect only: id-token: write, azure/login with client/tenant/subscription ids, the ARM_* names
 *   credential.ts and the azure-native provider read, no federated-token file, no client secret;
 * - the approver read with the job token (actions: read, GITHUB_TOKEN, the job's environment name);
 * - one release at a time per branch; the pull-request preview of both stacks in the job summary;
 * - the pulumi CLI of the locked SDK.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { GITHUB_OIDC_VARIABLES } from "../../../driver/targets/azure/credential.js";
import { fakeBin, REPO, runStep, step, workflow, type Job } from "./workflowSupport.js";
import { tempDir } from "../../support/tempDirs.js";

const release = () => workflow("release.yml");
const pr = () => workflow("pull-request.yml");
const azureJobs = () => [release().jobs.release!, release().jobs.prod!, pr().jobs.preview!];

/** `npm` that stands in for `npm run -s mlops -- release --json` with the exit code and output of each outcome. */
const fakeNpm = fakeBin({
  npm: `
echo "$*" >>"$FAKE_LOG"
echo "[mlops] train: run job-1 completed (12 min)" >&2
case "$FAKE_MODE" in
  rejected)
    echo "mlops: auc 0.812 is below the floor 0.85; the model was not registered (a recorded outcome, see 'mlops status rel-20261202-0412-ab12')" >&2
    exit 3 ;;
  ok)
    printf '{\\n  "id": "rel-20261202-0412-cd34",\\n  "state": "awaiting-approval"\\n}\\n'
    exit 0 ;;
  *)
    echo "mlops: no Azure credential within 5 s" >&2
    exit 8 ;;
esac`,
});

function releaseStep(mode: "rejected" | "ok" | "broken") {
  const log = path.join(tempDir("mlops-npx-"), "calls");
  writeFileSync(log, "");
  const r = runStep(step(release().jobs.release!, "release").run!, {
    PATH: `${fakeNpm}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
    FAKE_MODE: mode,
    FAKE_LOG: log,
  });
  return { ...r, calls: readFileSync(log, "utf8").trim().split("\n") };
}

describe("release.yml: the chain, run as GitHub runs it", () => {
  it("test -> release -> prod: PROD needs the release job, runs only for a release awaiting approval, in the mlops-prod environment", () => {
    const w = release();
    expect(w.on.push).to.deep.include({ branches: ["main"] });
    expect(Object.keys(w.on)).to.include("workflow_dispatch");
    expect(w.jobs.test!.uses).to.equal("./.github/workflows/test.yml");
    expect(w.jobs.release!.needs).to.equal("test");
    expect(w.jobs.prod!.needs).to.equal("release");
    expect(w.jobs.prod!.if).to.equal("needs.release.outputs.outcome == 'awaiting-approval'");
    expect(w.jobs.prod!.environment).to.equal("mlops-prod");
    expect(w.jobs.release!.outputs).to.deep.equal({ "release-id": "${{ steps.release.outputs.release-id }}", outcome: "${{ steps.release.outputs.outcome }}" });
    // the release id reaches PROD's scripts through env, never pasted into a script
    for (const s of w.jobs.prod!.steps!.filter((x) => x.run?.includes("RELEASE_ID")))
      expect(s.env!.RELEASE_ID).to.equal("${{ needs.release.outputs.release-id }}");
    for (const j of Object.values(w.jobs)) for (const s of j.steps ?? []) expect(s.run ?? "", `${s.name}: no \${{ }} inside a script`).to.not.contain("${{");
  });

  it("a release that passes the gate: outcome awaiting-approval, the release id from --json, a job summary", () => {
    const r = releaseStep("ok");
    expect(r.status, r.stderr).to.equal(0);
    expect(r.calls).to.deep.equal(["run -s mlops -- release --target azure --json"]);
    expect(r.outputs).to.deep.equal({ "release-id": "rel-20261202-0412-cd34", outcome: "awaiting-approval" });
    expect(r.summary).to.contain("### Release rel-20261202-0412-cd34: deployed to INT, awaiting approval for PROD");
    expect(r.stdout, "progress streams to the log").to.contain("[mlops] train: run job-1 completed");
  });

  it("the gate's rejection (exit 3) is a recorded outcome: green step, outcome rejected, the release id, a warning and a job summary", () => {
    const r = releaseStep("rejected");
    expect(r.status, r.stderr).to.equal(0);
    expect(r.outputs).to.deep.equal({ "release-id": "rel-20261202-0412-ab12", outcome: "rejected" });
    expect(r.stdout).to.contain("::warning title=metric gate rejected the candidate::release rel-20261202-0412-ab12: auc 0.812 is below the floor 0.85;");
    expect(r.summary)
      .to.contain("### Release rel-20261202-0412-ab12: rejected by the metric gate")
      .and.contain("auc 0.812 is below the floor 0.85")
      .and.contain("npm run mlops -- status rel-20261202-0412-ab12 --target azure");
    // the id is taken from the core's verdict line: keep them in step
    expect(readFileSync(path.join(REPO, "driver/core/releaseStateMachine.ts"), "utf8")).to.contain("(a recorded outcome, see 'mlops status ${r.id}')");
  });

  it("any other failure stays a red build with its exit code, and no outcome", () => {
    const r = releaseStep("broken");
    expect(r.status).to.equal(8);
    expect(r.outputs.outcome).to.equal(undefined);
  });

  it("the stack-file edit is committed back onto the branch, rebased onto a push that came meanwhile, with [skip ci]", () => {
    const root = tempDir("mlops-commitback-");
    const origin = path.join(root, "origin.git");
    const work = path.join(root, "work");
    const other = path.join(root, "other");
    const git = (cwd: string, ...args: string[]) =>
      execFileSync("git", args, {
        cwd,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
      });
    git(root, "init", "-q", "--bare", "-b", "main", origin);
    git(root, "clone", "-q", origin, work);
    writeFileSync(path.join(work, "Pulumi.int.yaml"), "config:\n  mlops:serving: {}\n");
    writeFileSync(path.join(work, "Pulumi.prod.yaml"), "config:\n  mlops:serving: {}\n");
    git(work, "add", ".");
    git(work, "commit", "-qm", "init");
    git(work, "push", "-q", "origin", "HEAD:main");
    git(root, "clone", "-q", origin, other);
    writeFileSync(path.join(other, "README.md"), "meanwhile\n");
    git(other, "add", "README.md");
    git(other, "commit", "-qm", "a push during the release");
    git(other, "push", "-q", "origin", "HEAD:main");

    for (const [job, stack, name] of [
      ["release", "int", "commit Pulumi.int.yaml (record of what INT serves)"],
      ["prod", "prod", "commit Pulumi.prod.yaml (record of what PROD serves)"],
    ] as const) {
      const s = step(release().jobs[job]!, name);
      writeFileSync(path.join(work, `Pulumi.${stack}.yaml`), `config:\n  mlops:serving: {deployments: {blue: {version: 3}}}\n`);
      const r = runStep(s.run!, { RELEASE_ID: "rel-7", GITHUB_REF_NAME: "main", GIT_CONFIG_GLOBAL: "/dev/null" }, work);
      expect(r.status, r.stderr).to.equal(0);
      expect(git(origin, "log", "-1", "--format=%s%n%an", "main").trim()).to.equal(
        `mlops: ${stack === "int" ? "INT" : "PROD"} serves release rel-7 [skip ci]\ngithub-actions[bot]`,
      );
      expect(git(origin, "show", `main:Pulumi.${stack}.yaml`)).to.contain("version: 3");
    }
    expect(git(origin, "log", "--format=%s", "main").trim().split("\n")).to.deep.equal([
      "mlops: PROD serves release rel-7 [skip ci]",
      "mlops: INT serves release rel-7 [skip ci]",
      "a push during the release",
      "init",
    ]);
    expect(step(release().jobs.release!, "commit Pulumi.int.yaml (record of what INT serves)").if).to.equal(
      "steps.release.outputs.outcome == 'awaiting-approval'",
    );
  });

  it("PROD records the reviewer who approved mlops-prod: approve --from-github with the job token, actions: read, the job's environment name", () => {
    const prod = release().jobs.prod!;
    const s = step(prod, "mlops approve --from-github + promote");
    expect(s.run)
      .to.match(/npm run -s mlops -- approve "\$RELEASE_ID" --target azure --from-github/)
      .and.match(/npm run -s mlops -- promote "\$RELEASE_ID" --target azure/);
    expect(s.env).to.deep.include({ GITHUB_TOKEN: "${{ github.token }}", MLOPS_GITHUB_ENVIRONMENT: prod.environment as string });
    expect(prod.permissions).to.deep.equal({ contents: "write", "id-token": "write", actions: "read" });
  });

  it("one release at a time per branch; a pull request's new push cancels its previous run", () => {
    const w = release();
    expect(w.jobs.release!.concurrency).to.deep.equal({ group: "mlops-release-${{ github.ref }}", "cancel-in-progress": false });
    expect(w.jobs.prod!.concurrency).to.deep.equal({ group: "mlops-prod-${{ github.ref }}", "cancel-in-progress": false });
    expect(pr().concurrency).to.deep.equal({ group: "pr-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
  });
});

describe("Azure by OpenID Connect only (docs/github-actions.md, 'Azure login')", () => {
  it("every job that reaches Azure may request an OIDC token, logs in with azure/login by client/tenant/subscription id, and exports the ids under the names mlops and azure-native read", () => {
    // the pull-request preview logs in as its own read-only identity
    for (const [job, client] of azureJobs().map((j, i) => [j, i < 2 ? "${{ vars.AZURE_CLIENT_ID }}" : "${{ vars.AZURE_PREVIEW_CLIENT_ID }}"] as const)) {
      expect(job.permissions!["id-token"]).to.equal("write");
      const login = job.steps!.find((s) => s.uses?.startsWith("azure/login@"))!;
      expect(login.with).to.deep.equal({
        "client-id": client,
        "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
        "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
      });
      expect(job.env).to.deep.include({
        ARM_USE_OIDC: "true",
        [GITHUB_OIDC_VARIABLES.clientId]: client,
        [GITHUB_OIDC_VARIABLES.tenantId]: "${{ vars.AZURE_TENANT_ID }}",
        ARM_SUBSCRIPTION_ID: "${{ vars.AZURE_SUBSCRIPTION_ID }}",
      });
    }
  });

  it("no stored Azure secret, no federated-token file; the backend's secrets only in the steps that run mlops or pulumi", () => {
    const text = [
      readFileSync(path.join(REPO, ".github/workflows/release.yml"), "utf8"),
      readFileSync(path.join(REPO, ".github/workflows/pull-request.yml"), "utf8"),
    ].join("\n");
    expect(text).to.not.match(/AZURE_FEDERATED_TOKEN_FILE|ARM_CLIENT_SECRET|AZURE_CLIENT_SECRET|creds:/);
    for (const job of azureJobs()) {
      expect(JSON.stringify(job.env), "job-level env holds no secret").to.not.contain("secrets.");
      for (const s of job.steps!) {
        const usesSecrets = JSON.stringify(s.env ?? {}).includes("secrets.");
        expect(usesSecrets, `${s.name ?? s.uses}`).to.equal(/\bnpm run -s mlops -- |\bpulumi preview /.test(s.run ?? ""));
      }
    }
    const w = release();
    expect(w.permissions).to.deep.equal({});
    expect(pr().permissions).to.deep.equal({});
    expect(w.jobs.release!.permissions).to.deep.equal({ contents: "write", "id-token": "write" });
    expect(pr().jobs.preview!.permissions).to.deep.equal({ contents: "read", "id-token": "write" });
  });
});

describe("pull-request.yml: tests and pulumi preview of both stacks in the job summary", () => {
  const fakePulumi = fakeBin({
    pulumi: `
echo "$*" >>"$FAKE_LOG"
case "$*" in
  *"--stack int"*) echo "Previewing update (int):"; echo "  ~ azure-native:machinelearningservices:OnlineDeployment blue update [diff: ~model]"; echo "Resources: 1 to update, 30 unchanged"; exit 0 ;;
  *) echo "Previewing update (prod):" ; echo "error: policy prod-inference-over-tls violated" >&2; exit 255 ;;
esac`,
  });

  it("previews int and prod with the policy pack, posts each diff (and a failure) to the summary, and fails if one failed", () => {
    const log = path.join(tempDir("mlops-pulumi-"), "calls");
    writeFileSync(log, "");
    const preview = pr().jobs.preview!;
    const r = runStep(step(preview, "pulumi preview (int, prod) into the job summary").run!, { PATH: `${fakePulumi}:/usr/bin:/bin`, FAKE_LOG: log });
    expect(r.status).to.equal(255);
    expect(readFileSync(log, "utf8").trim().split("\n")).to.deep.equal([
      "preview --stack int --diff --policy-pack policy --non-interactive --color never --suppress-progress --suppress-outputs",
      "preview --stack prod --diff --policy-pack policy --non-interactive --color never --suppress-progress --suppress-outputs",
    ]);
    expect(r.summary).to.contain(
      "### pulumi preview --stack int\n\n```diff\nPreviewing update (int):\n  ~ azure-native:machinelearningservices:OnlineDeployment blue update [diff: ~model]\nResources: 1 to update, 30 unchanged\n```",
    );
    expect(r.summary).to.contain("### pulumi preview --stack prod: failed (exit 255)").and.contain("error: policy prod-inference-over-tls violated");
    expect(preview.if).to.equal("github.event.pull_request.head.repo.full_name == github.repository");
    expect(pr().jobs.test!.uses).to.equal("./.github/workflows/test.yml");
    expect(pr().on.pull_request).to.deep.include({ branches: ["main"] });
  });
});

describe("the pulumi CLI in the workflows", () => {
  it("is installed by the shared set-up action, at the version of the @pulumi/pulumi that package-lock.json installs", () => {
    const action = parse(readFileSync(path.join(REPO, ".github/actions/setup/action.yml"), "utf8")) as { runs: { steps: { run?: string }[] } };
    const install = action.runs.steps.map((s) => s.run ?? "").find((t) => /get\.pulumi\.com/.test(t))!;
    const line = install.split("\n").find((l) => /^\s*version=\$\(/.test(l))!;
    expect(install).to.contain('--version "$version"');
    const derived = execFileSync("bash", ["-c", `${line.trim()}\nprintf '%s' "$version"`], { cwd: REPO, encoding: "utf8" });
    const lock = (JSON.parse(readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> }).packages[
      "node_modules/@pulumi/pulumi"
    ]!.version;
    expect(derived).to.equal(lock);
    const jobsWithPulumi = azureJobs().map((j: Job) => j.steps!.find((s) => s.uses === "./.github/actions/setup")?.with?.pulumi);
    expect(jobsWithPulumi).to.deep.equal(["true", "true", "true"]);
  });
});
