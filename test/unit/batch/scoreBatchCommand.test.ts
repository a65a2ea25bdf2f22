import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { EXIT, MlopsError } from "../../../driver/core/errors.js";
import type { BatchScoreRequest, BatchScoreSummary } from "../../../driver/core/ports.js";
import { BatchProgressBar } from "../../../driver/batch/batchProgressBar.js";
import { planScoreBatch, scoreBatchCommand, type ScoreBatchPlan } from "../../../driver/batch/scoreBatchCommand.js";
import { FakeTarget, silentProgress } from "../../support/fakeTarget.js";
import { tempDir } from "../../support/tempDirs.js";

const SUMMARY: BatchScoreSummary = { files: 1, rows: 10, scored: 8, failed: 2, seconds: 0.5, rowsPerSecond: 20, failureKinds: { not_a_number: 2 } };

async function expectCode(p: Promise<unknown> | (() => unknown), code: number, text: RegExp): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect(e).to.be.instanceOf(MlopsError);
    expect((e as MlopsError).exitCode, (e as Error).message).to.equal(code);
    expect((e as Error).message).to.match(text);
    expect((e as Error).message).to.not.contain("\n");
    return;
  }
  expect.fail("expected an error");
}

function targetWithBatch(): { t: FakeTarget; calls: BatchScoreRequest[] } {
  const t = new FakeTarget();
  const calls: BatchScoreRequest[] = [];
  t.versions.push(
    { name: "m", version: "1", digest: "a".repeat(64), runId: "r1", metrics: {}, tags: {} },
    { name: "m", version: "2", digest: "b".repeat(64), runId: "r2", metrics: {}, tags: {} },
  );
  (t as unknown as { batch: unknown }).batch = {
    scoreBatch: async (req: BatchScoreRequest) => {
      calls.push(req);
      return SUMMARY;
    },
  };
  return { t, calls };
}

describe("score-batch: arguments and model resolution", () => {
  let dir: string;
  let input: string;
  beforeEach(async () => {
    dir = tempDir("batch-cmd-");
    input = path.join(dir, "in.csv");
    await writeFile(input, "age\n1\n");
  });
  const plan = (over: Partial<{ stack: string; input: string; output: string; version: string }> = {}): ScoreBatchPlan =>
    planScoreBatch({ stack: "int", input: "in.csv", output: "out.csv", ...over }, dir);

  it("puts the errors file beside the output and resolves paths against the working directory", () => {
    const p = plan();
    expect(p.output).to.equal(path.join(dir, "out.csv"));
    expect(p.errors).to.equal(path.join(dir, "out.csv.errors.csv"));
  });

  it("refuses an unknown stack, a non-integer version, a missing or empty input and an output over the input, with exit 2", async () => {
    await expectCode(() => plan({ stack: "dev" }), EXIT.badInput, /--stack 'dev' is not a stack; use one of: int, prod/);
    await expectCode(() => plan({ version: "v3" }), EXIT.badInput, /--version 'v3' is not a model version/);
    await expectCode(() => plan({ input: "nope.csv" }), EXIT.badInput, /input nope.csv does not exist/);
    await writeFile(path.join(dir, "empty.csv"), "");
    await expectCode(() => plan({ input: "empty.csv" }), EXIT.badInput, /input empty.csv is empty/);
    await expectCode(() => plan({ output: "in.csv" }), EXIT.badInput, /would overwrite or sit inside the input/);
    await mkdir(path.join(dir, "folder"));
    await expectCode(() => plan({ input: "folder", output: "folder/out.csv" }), EXIT.badInput, /sit inside the input/);
    await expectCode(() => plan({ output: "missing/out.csv" }), EXIT.badInput, /folder .*missing does not exist/);
  });

  it("scores with exactly the version the stack serves", async () => {
    const { t, calls } = targetWithBatch();
    t.serving.int = { version: "2", digest: "b".repeat(64) };
    const out = await scoreBatchCommand({ target: t, modelName: "m", plan: plan(), progress: silentProgress, bar: new BatchProgressBar({ quiet: true }) });
    expect(calls.map((c) => c.model.version)).to.deep.equal(["2"]);
    expect(out.json.model).to.deep.equal({ name: "m", version: "2", digest: "b".repeat(64), source: "stack" });
    expect(out.json).to.include({ rows: 10, scored: 8, failed: 2 });
    expect(out.text).to.contain("scored 8 of 10 rows with m v2").and.contain("not_a_number 2");
  });

  it("--version N wins over what the stack serves; an unknown version is not found (exit 7)", async () => {
    const { t, calls } = targetWithBatch();
    t.serving.int = { version: "2", digest: "b".repeat(64) };
    await scoreBatchCommand({ target: t, modelName: "m", plan: plan({ version: "1" }), progress: silentProgress, bar: new BatchProgressBar({ quiet: true }) });
    expect(calls[0]!.model.digest).to.equal("a".repeat(64));
    await expectCode(
      scoreBatchCommand({ target: t, modelName: "m", plan: plan({ version: "9" }), progress: silentProgress, bar: new BatchProgressBar({ quiet: true }) }),
      EXIT.notFound,
      /m v9 is not in the fake registry/,
    );
  });

  it("a stack with nothing deployed is not found (exit 7) and nothing is scored", async () => {
    const { t, calls } = targetWithBatch();
    await expectCode(
      scoreBatchCommand({ target: t, modelName: "m", plan: plan({ stack: "prod" }), progress: silentProgress, bar: new BatchProgressBar({ quiet: true }) }),
      EXIT.notFound,
      /nothing is deployed to prod/,
    );
    expect(calls).to.have.length(0);
  });

  it("refuses to score when the stack's recorded digest is not the registry's (exit 1), before any row is read", async () => {
    const { t, calls } = targetWithBatch();
    t.environments.describe = async (stack) => ({ stack, healthy: true, detail: "fake", modelName: "m", modelVersion: "2", digest: "c".repeat(64) });
    await expectCode(
      scoreBatchCommand({ target: t, modelName: "m", plan: plan(), progress: silentProgress, bar: new BatchProgressBar({ quiet: true }) }),
      EXIT.failure,
      /records m v2 with sha256 cccccccccccc, the registry bbbbbbbbbbbb; refusing/,
    );
    expect(calls).to.have.length(0);
  });

  it("a target without batch scoring is not ready (exit 8)", async () => {
    const t = new FakeTarget();
    t.versions.push({ name: "m", version: "1", digest: "a".repeat(64), runId: "r1", metrics: {}, tags: {} });
    await expectCode(
      scoreBatchCommand({ target: t, modelName: "m", plan: plan({ version: "1" }), progress: silentProgress, bar: new BatchProgressBar({ quiet: true }) }),
      EXIT.environment,
      /cannot score in batch/,
    );
  });

  it("when no row at all could be scored the command fails with exit 2 naming the errors file", async () => {
    const { t } = targetWithBatch();
    (t as unknown as { batch: unknown }).batch = { scoreBatch: async () => ({ ...SUMMARY, scored: 0, failed: 10 }) };
    await expectCode(
      scoreBatchCommand({ target: t, modelName: "m", plan: plan({ version: "1" }), progress: silentProgress, bar: new BatchProgressBar({ quiet: true }) }),
      EXIT.badInput,
      /none of the 10 rows .* could be scored; the reasons are in .*out\.csv\.errors\.csv/,
    );
  });
});
