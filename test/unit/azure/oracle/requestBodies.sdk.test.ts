/**
 * SDK-judged contract tests: every ARM body the azure target sends to the loopback Azure fake during real flows
 * (release, approval, promotion, champion) is judged by Microsoft's azure-ai-ml (test/oracle/judge.py): the REST
 * model must know every key and value, and the SDK's entity must convert it and give the same fields back.
 */
import { expect } from "chai";
import { AzureRegistry } from "../../../../driver/targets/azure/azureRegistry.js";
import { AzureTraining } from "../../../../driver/targets/azure/azureTraining.js";
import { useSdkOracle } from "../../../oracle/sdkOracle.js";
import { armResourceOf, sdkDefects } from "../../../oracle/verdicts.js";
import { FakeAzure, type RecordedRequest } from "../support/fakeAzure.js";
import { azureMachine } from "../support/cliAndTarget.js";
import { clientsFor, FakeStackUpdater, RecordingProgress, settingsFor, tempRepo } from "../support/harness.js";

describe("azure target request bodies, judged by the azure-ai-ml SDK (SDK-judged contract tests)", function () {
  this.timeout(60_000);
  const oracle = useSdkOracle();
  let fake: FakeAzure;
  let repo: ReturnType<typeof tempRepo>;

  /** A full release (train, register, deploy INT), approval, promotion to PROD and a champion crowning. */
  before(async () => {
    fake = await new FakeAzure().start();
    fake.endpointKeys.set("int", "int-key").set("prod", "prod-key");
    repo = tempRepo();
    const updater = new FakeStackUpdater(repo.root, fake);
    const machine = async () => (await azureMachine(repo.root, fake, updater)).m;
    const r = await (await machine()).start();
    expect(r.state, JSON.stringify(r.steps)).to.equal("awaiting-approval");
    await (await machine()).approve(r.id, "alice@contoso.com");
    expect((await (await machine()).promote(r.id)).state).to.equal("released");
    await new AzureRegistry(clientsFor(fake, "prod")).crownChampion(r.model!);
  });
  after(async () => {
    await fake?.stop();
    repo?.cleanup();
  });

  const armWrites = (): (RecordedRequest & { judged: NonNullable<ReturnType<typeof armResourceOf>> })[] =>
    fake.requests
      .filter((q) => (q.method === "PUT" || q.method === "POST") && q.body !== undefined)
      .flatMap((q) => {
        const judged = armResourceOf(q.path);
        return judged ? [{ ...q, judged }] : [];
      });

  it("SDK-judged contract test: the flows send every kind of body the azure target writes (code, environment, job, model container, model versions in INT and PROD)", () => {
    const sent = armWrites().map((q) => `${q.judged.kind} ${q.path.includes("/ws-prod/") ? "prod" : "int"}`);
    expect(new Set(sent)).to.include.keys(
      "codeVersion int",
      "environmentVersion int",
      "job int",
      "modelContainer int",
      "modelVersion int",
      "modelContainer prod",
      "modelVersion prod",
    );
    // every ARM write with a body is one the oracle knows how to judge
    const unjudged = fake.requests.filter(
      (q) => (q.method === "PUT" || q.method === "POST") && q.body !== undefined && q.path.startsWith("/subscriptions/") && !armResourceOf(q.path),
    );
    expect(unjudged.map((q) => `${q.method} ${q.path}`)).to.deep.equal([]);
  });

  for (const kind of ["codeVersion", "environmentVersion", "job", "modelContainer", "modelVersion"] as const) {
    it(`SDK-judged contract test: every ${kind} body the driver PUTs is accepted by the SDK's REST model and survives its entity round trip`, async () => {
      const writes = armWrites().filter((q) => q.judged.kind === kind);
      expect(writes, `no ${kind} was sent`).to.not.have.length(0);
      const defects: string[] = [];
      for (const q of writes) {
        const verdict = await oracle().judge(kind, q.body, { id: q.judged.id, name: q.judged.name });
        for (const d of sdkDefects(verdict, q.body, { apiVersion: "2022-10-01", request: true }))
          defects.push(`${q.method} ${q.path.replace(/.*\/workspaces\//, "")}: ${d}`);
      }
      expect(defects).to.deep.equal([]);
    });
  }

  it("SDK-judged contract test: every answer of the fake that the driver reads (assets, jobs, job lists, datastores, endpoint, keys) is one the SDK's REST model accepts and converts", async () => {
    const defects: string[] = [];
    const judged = new Set<string>();
    for (const q of fake.requests) {
      const a = q.answer;
      if (!a || a.status >= 300 || a.body === undefined || !q.path.startsWith("/subscriptions/")) continue;
      const list = /\/(datastores|jobs|models\/[^/]+\/versions)$/.exec(q.path);
      const items: { kind: Parameters<ReturnType<typeof oracle>["judge"]>[0]; body: unknown }[] = [];
      if (list) {
        const kind = list[1] === "datastores" ? "datastore" : list[1] === "jobs" ? "job" : "modelVersion";
        for (const item of (a.body as { value: unknown[] }).value) items.push({ kind, body: item });
      } else if (q.path.endsWith("/listKeys")) {
        items.push({ kind: "endpointAuthKeys", body: a.body });
      } else {
        const r = armResourceOf(q.path);
        if (r) items.push({ kind: r.kind, body: a.body });
      }
      for (const item of items) {
        judged.add(item.kind);
        const verdict = await oracle().judge(item.kind, item.body);
        // the program declares Kubernetes online endpoints; the SDK tells them apart by properties.compute
        if (item.kind === "onlineEndpoint" && verdict.entity !== "KubernetesOnlineEndpoint")
          defects.push(
            `answer to ${q.method} ${q.path.replace(/.*\/workspaces\//, "")}: the SDK reads it as a ${verdict.entity}, not a KubernetesOnlineEndpoint`,
          );
        for (const d of sdkDefects(verdict, item.body, { apiVersion: "2022-10-01", request: false }))
          defects.push(`answer to ${q.method} ${q.path.replace(/.*\/workspaces\//, "")}: ${d}`);
      }
    }
    expect([...judged]).to.include.members([
      "datastore",
      "codeVersion",
      "environmentVersion",
      "job",
      "modelContainer",
      "modelVersion",
      "onlineEndpoint",
      "endpointAuthKeys",
    ]);
    expect(defects).to.deep.equal([]);
  });

  it("SDK-judged contract test: the fake's answer for a failed job is one the SDK's REST model accepts (the driver reads the job's error text from it)", async () => {
    const failing = await new FakeAzure().start();
    const failRepo = tempRepo();
    try {
      failing.jobScript = () => ({ statuses: ["Running", "Failed"], error: "ModuleNotFoundError: No module named 'sklearn'" });
      const source = { gitCommit: "f".repeat(40), gitDirty: false, codeDigest: "c", dataDigest: "d", envDigest: "e" };
      const err = await new AzureTraining({
        repoRoot: failRepo.root,
        experimentName: "diabetes",
        ws: clientsFor(failing, "int"),
        settings: settingsFor(failing),
      })
        .train(source, new RecordingProgress())
        .catch((e: unknown) => e);
      expect(String(err)).to.match(/ended Failed/);
      const failed = failing.requests.filter(
        (q) =>
          q.method === "GET" &&
          /\/jobs\/mlops-train-[^/]+$/.test(q.path) &&
          (q.answer?.body as { properties?: { status?: string } })?.properties?.status === "Failed",
      );
      expect(failed).to.not.have.length(0);
      const defects: string[] = [];
      for (const q of failed) {
        const verdict = await oracle().judge("job", q.answer!.body);
        for (const d of sdkDefects(verdict, q.answer!.body, { apiVersion: "2022-10-01", request: false })) defects.push(d);
      }
      // azure-ai-ml reads a failed job's error from Run History's run details (operations/_job_ops_helper.py,
      // get_run_details(...).error), not from the ARM job, whose model defines no error field in either api-version
      expect([...new Set(defects)]).to.deep.equal([]);
    } finally {
      await failing.stop();
      failRepo.cleanup();
    }
  });
});
