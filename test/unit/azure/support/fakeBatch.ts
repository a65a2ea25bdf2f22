/**
 * Batch endpoints on the loopback fake (installed through FakeAzure.routes): ARM's GET of a batch endpoint
 * (api-version 2022-10-01, properties.scoringUri), and the endpoint's scoring URI taking the invoke POST that
 * azure-ai-ml's batch_endpoints.invoke sends (token for the Azure ML audience, `azureml-model-deployment`). The
 * POST starts an ordinary workspace job (FakeAzure.jobs: the built-in ARM job GET polls it) and, as the deployment's
 * append_row output, writes predictions.csv under the job's output folder: one "file,row,prediction,error" line per
 * data row of every uploaded input file (`predict` decides each row's answer).
 */
import type { ServerResponse } from "node:http";
import { accountOf, CONTAINER, type FakeAzure, type RecordedRequest } from "./fakeAzure.js";
import { AML_TOKEN, ARM_TOKEN } from "./fakeCredential.js";

export interface FakeBatchOptions {
  /** The answer for one data row: a prediction, or an error text. Default: 150.5 for 10 numbers, else an error. */
  predict?: (cells: string[]) => { prediction: number } | { error: string };
  /** deployments that exist per endpoint name (default: {"<any>": ["main"]}) */
  deployments?: string[];
}

export interface FakeBatch {
  invokes: RecordedRequest[];
}

const WS = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/batchEndpoints\/([^/]+)$/;

const defaultPredict = (cells: string[]) =>
  cells.length === 10 && cells.every((c) => c.trim() !== "" && Number.isFinite(Number(c)))
    ? { prediction: 150.5 }
    : { error: `expected 10 numbers, got ${JSON.stringify(cells.join(","))}` };

/** `azureml://[subscriptions/.../workspaces/<ws>/]datastores/<ds>/paths/<p>` -> <p> */
const pathOf = (uri: string): string => uri.replace(/^azureml:\/\/(?:subscriptions\/.*\/workspaces\/[^/]+\/)?datastores\/[^/]+\/paths\//, "");

export function installFakeBatch(fake: FakeAzure, o: FakeBatchOptions = {}): FakeBatch {
  const state: FakeBatch = { invokes: [] };
  const predict = o.predict ?? defaultPredict;
  const json = (rec: RecordedRequest, res: ServerResponse, status: number, body: unknown): true => {
    rec.answer = { status, body: structuredClone(body) };
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    return true;
  };
  fake.routes.push((rec, res) => {
    const m = WS.exec(rec.path);
    if (m && rec.method === "GET") {
      if (rec.query["api-version"] !== "2022-10-01")
        return json(rec, res, 400, { error: { code: "InvalidApiVersion", message: String(rec.query["api-version"]) } });
      if (rec.headers.authorization !== ARM_TOKEN) return json(rec, res, 401, { error: { code: "InvalidAuthenticationToken", message: "wrong audience" } });
      const [, ws, name] = m;
      return json(rec, res, 200, {
        id: rec.path,
        name,
        type: "Microsoft.MachineLearningServices/workspaces/batchEndpoints",
        location: "westeurope",
        properties: {
          authMode: "AADToken",
          provisioningState: "Succeeded",
          scoringUri: `${fake.url}/batch/${ws}/${name}/jobs`,
          swaggerUri: `${fake.url}/batch/${ws}/${name}/swagger.json`,
        },
      });
    }
    const b = /^\/batch\/([^/]+)\/([^/]+)\/jobs$/.exec(rec.path);
    if (!b || rec.method !== "POST") return false;
    const [, ws] = b;
    state.invokes.push(rec);
    if (rec.headers.authorization !== AML_TOKEN)
      return json(rec, res, 401, { error: { code: "InvalidAuthenticationToken", message: "the token is not for https://ml.azure.com" } });
    const deployment = rec.headers["azureml-model-deployment"];
    if (!deployment || !(o.deployments ?? ["main"]).includes(deployment))
      return json(rec, res, 404, { error: { code: "UserError", message: `deployment ${deployment ?? "(default)"} not found` } });
    const props =
      (rec.body as { properties?: { name?: string; inputData?: Record<string, { uri?: string }>; outputData?: { score?: { uri?: string } } } })?.properties ??
      {};
    const input = Object.values(props.inputData ?? {})[0];
    const output = props.outputData?.score ?? {};
    if (!input?.uri || !output.uri) return json(rec, res, 400, { error: { code: "UserError", message: "inputData and outputData.score are required" } });
    const inPrefix = `${accountOf(ws!)}/${CONTAINER}/${pathOf(input.uri)}`;
    const lines: string[] = [];
    for (const [key, blob] of [...fake.blobs.entries()].sort(([a], [c]) => a.localeCompare(c))) {
      if (!key.startsWith(inPrefix)) continue;
      const file = key.slice(key.lastIndexOf("/") + 1);
      const rows = blob.data.toString("utf8").trimEnd().split("\n").slice(1);
      rows.forEach((row, i) => {
        const r = predict(row.split(","));
        lines.push("prediction" in r ? `${file},${i + 1},${r.prediction},` : `${file},${i + 1},,"${r.error.replace(/"/g, '""')}"`);
      });
    }
    const name = String(props.name ?? `batch-${Date.now()}`);
    fake.putBlob(accountOf(ws!), `${pathOf(output.uri)}predictions.csv`, Buffer.from(lines.map((l) => `${l}\n`).join("")));
    fake.jobs.set(name, {
      body: { properties: { jobType: "Pipeline", ...props } },
      script: fake.jobScript(name),
      polls: 0,
      ws: ws!,
      created: new Date().toISOString(),
    });
    return json(rec, res, 200, { id: `${name}`, name, properties: { status: "NotStarted" } });
  });
  return state;
}
