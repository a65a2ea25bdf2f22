/**
 * The SDK oracle from the tests' side: the test-only venv (test/oracle/requirements.txt, made on first use by
 * driver/host/pythonEnv.ts, shared through MLOPS_VENV_ROOT like the project's own venv) and one
 * long-lived `python judge.py` per test file, asked one JSON line at a time. See test/oracle/README.md.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { appendFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Progress } from "../../driver/core/ports.js";
import { ensureRequirementsEnv, readCondaEnv, type PythonEnv } from "../../driver/host/pythonEnv.js";

export const ORACLE_DIR = import.meta.dirname;
export const REPO_ROOT = path.resolve(ORACLE_DIR, "../..");
export const REQUIREMENTS = path.join(ORACLE_DIR, "requirements.txt");
/** A cold build downloads ~60 wheels; give it room on a busy 2-core machine. */
export const ORACLE_SETUP_TIMEOUT_MS = 15 * 60_000;

export type ResourceKind =
  | "codeVersion"
  | "environmentVersion"
  | "modelVersion"
  | "modelContainer"
  | "job"
  | "datastore"
  | "compute"
  | "onlineEndpoint"
  | "onlineDeployment"
  | "batchEndpoint"
  | "batchDeployment"
  | "endpointAuthKeys";

export interface LostField {
  path: string;
  sent: unknown;
  back: unknown;
}

export interface Verdict {
  kind: ResourceKind;
  restModel: string;
  unknownKeys: string[];
  unknownValues: string[];
  typeErrors: string[];
  missingRequired: string[];
  readOnlySent: string[];
  conversionError: string | null;
  lost: LostField[];
  shims: string[];
  roundTrip: Record<string, unknown> | null;
  /** the SDK entity class the body converts to, e.g. KubernetesOnlineEndpoint */
  entity: string | null;
}

export interface SdkCommandJobArgs {
  code: string;
  command: string;
  environment: string;
  compute: string;
  outputs: Record<string, { type: string; path: string; mode: string }>;
  experimentName?: string;
  displayName?: string;
  environmentVariables?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface SdkModelVersionArgs {
  name: string;
  version?: string;
  path: string;
  type: string;
  description?: string;
  tags?: Record<string, string>;
  /** the workspace a short `azureml://datastores/...` path is resolved against, as models.create_or_update does */
  workspace?: { subscription: string; resourceGroup: string; workspace: string };
}

const quiet: Progress = {
  stepStarted: () => undefined,
  stepFinished: () => undefined,
  info: (m) => process.stderr.write(`  [sdk oracle] ${m}\n`),
};

/** The oracle's venv, built on first use (cold: about a minute with a warm pip cache), reused after. */
export async function oracleEnv(progress: Progress = quiet): Promise<PythonEnv> {
  const venvRoot = process.env.MLOPS_VENV_ROOT?.trim() ? path.resolve(process.env.MLOPS_VENV_ROOT.trim()) : path.join(REPO_ROOT, ".mlops", "venvs");
  const { python } = await readCondaEnv(REPO_ROOT); // the project's Python (3.11)
  return ensureRequirementsEnv({ requirementsFile: REQUIREMENTS, python, venvRoot, progress, expectedMinutes: 2 });
}

export class SdkOracle {
  private readonly pending: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  private stderr = "";
  private exited?: string;

  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on("line", (line) => {
      const next = this.pending.shift();
      if (!next) return;
      try {
        next.resolve(JSON.parse(line) as Record<string, unknown>);
      } catch (e) {
        next.reject(new Error(`sdk oracle answered a line that is not JSON: ${line.slice(0, 200)} (${String(e)})`));
      }
    });
    proc.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString("utf8")).slice(-4000);
    });
    proc.on("exit", (code, signal) => {
      this.exited = `exited (${code ?? signal})`;
      for (const p of this.pending.splice(0)) p.reject(new Error(`sdk oracle ${this.exited}: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}`));
    });
  }

  static async start(progress?: Progress): Promise<SdkOracle> {
    const env = await oracleEnv(progress);
    const proc = spawn(env.python, [path.join(ORACLE_DIR, "judge.py")], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
    });
    const oracle = new SdkOracle(proc);
    const v = await oracle.ask({ op: "versions" });
    if (v.azureAiMl !== "1.35.2") throw new Error(`sdk oracle runs azure-ai-ml ${String(v.azureAiMl)}, expected the pinned 1.35.2`);
    return oracle;
  }

  private ask(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`sdk oracle ${this.exited}: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}`));
    return new Promise((resolve, reject) => {
      this.pending.push({
        resolve: (answer) =>
          answer.ok === true
            ? resolve(answer)
            : reject(new Error(`sdk oracle failed on ${String(request.op)}: ${String(answer.error)}\n${String(answer.trace ?? "")}`)),
        reject,
      });
      this.proc.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Judges one body of a resource kind; `envelope` carries the id/name a request gets from its URL path. */
  async judge(kind: ResourceKind, body: unknown, envelope: { id?: string; name?: string } = {}): Promise<Verdict> {
    const verdict = (await this.ask({ op: "judge", kind, body, envelope })) as unknown as Verdict;
    // MLOPS_ORACLE_LOG=<file>: every judged body and its verdict, one JSON line each (to read what the SDK said)
    const log = process.env.MLOPS_ORACLE_LOG?.trim();
    if (log) appendFileSync(log, `${JSON.stringify({ kind, envelope, body, verdict })}\n`);
    return verdict;
  }

  async versions(): Promise<{ azureAiMl: string; apiVersion: string }> {
    return (await this.ask({ op: "versions" })) as unknown as { azureAiMl: string; apiVersion: string };
  }

  /** The wire names of the fields each SDK REST model class (api-version 2025-12-01) defines. */
  async fields(classes: string[]): Promise<Record<string, string[]>> {
    return (await this.ask({ op: "fields", classes })).fields as Record<string, string[]>;
  }

  /** The job body the SDK builds for this intent (command(...) submitted the way jobs.create_or_update does). */
  async sdkCommandJob(args: SdkCommandJobArgs): Promise<{ properties: Record<string, unknown> }> {
    return (await this.ask({ op: "sdkCommandJob", args })).body as { properties: Record<string, unknown> };
  }

  /** The body and headers azure-ai-ml's batch_endpoints.invoke sends to a batch endpoint's scoring URI. */
  async sdkBatchInvoke(args: {
    inputs: Record<string, { type: string; path: string }>;
    outputs?: Record<string, { type: string; path: string }>;
    jobName?: string;
    deploymentName?: string;
  }): Promise<{ body: { properties: Record<string, unknown> }; headers: Record<string, string>; repeatabilityHeader: string }> {
    const r = await this.ask({ op: "sdkBatchInvoke", args });
    return r as unknown as { body: { properties: Record<string, unknown> }; headers: Record<string, string>; repeatabilityHeader: string };
  }

  /** The model version body the SDK builds for Model(path=..., type=...) in models.create_or_update (remote path). */
  async sdkModelVersion(args: SdkModelVersionArgs): Promise<{ properties: Record<string, unknown> }> {
    return (await this.ask({ op: "sdkModelVersion", args })).body as { properties: Record<string, unknown> };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once("exit", () => r()));
    this.proc.stdin.end();
    await done;
  }
}

/**
 * Mocha wiring: one oracle per test file (`const oracle = useSdkOracle();` at describe level, then `oracle()` in
 * tests). The before hook builds the venv on a fresh clone, so its timeout is long.
 */
export function useSdkOracle(): () => SdkOracle {
  let oracle: SdkOracle | undefined;
  before(async function () {
    this.timeout(ORACLE_SETUP_TIMEOUT_MS);
    oracle = await SdkOracle.start();
  });
  after(async () => {
    await oracle?.close();
  });
  return () => {
    if (!oracle) throw new Error("the sdk oracle did not start (see the before hook's error)");
    return oracle;
  };
}
