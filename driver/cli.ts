/**
 * The `mlops` command line: parses arguments, wires a target to the release core, prints results to stdout
 * (text, or JSON with --json) and progress to stderr, and maps every error to one line and an exit code.
 */
import { Command, CommanderError, Option } from "commander";
import { existsSync } from "node:fs";
import path from "node:path";
import { readReleaseConfig } from "./config/releaseConfig.js";
import { ConfigError, EXIT, MlopsError, UsageError } from "./core/errors.js";
import { readStackConfigFile, StackConfigError } from "../config/stackConfig.js";
import { ReleaseStateMachine } from "./core/releaseStateMachine.js";
import { MLOPS_TEST_RUN, testsReuseKey } from "./core/reuseKeys.js";
import { runTestsAndRecord } from "./core/testStep.js";
import { STACKS, type Release } from "./core/release.js";
import { describeIdentity } from "./core/approverIdentity.js";
import { approveRelease, type ApproveRequest } from "./cli/approveRelease.js";
import { StderrProgress } from "./cli/progress.js";
import { renderRelease, renderStatus, statusJson } from "./cli/render.js";
import { createTarget, parseTargetName } from "./targets/index.js";
import { TARGETS, type CliTarget } from "./targets/types.js";
import { profileCommand, rollbackCommand, writeReportFor, type CommandOutput } from "./cli/profileCommands.js";
import { doctorCommand } from "./doctor/doctorCommand.js";
import { approvalFromAzureDevOps } from "./targets/azure/adoApprover.js";
import { approvalFromGitHub } from "./targets/azure/githubApprover.js";
import { BatchProgressBar } from "./batch/batchProgressBar.js";
import { planScoreBatch, scoreBatchCommand } from "./batch/scoreBatchCommand.js";
import { RELEASE_ID } from "./store/fileReleaseStore.js";
import { rotateLogsBySize } from "./host/logRotation.js";
import { readLastMonitors, renderLastMonitors } from "./monitor/lastMonitor.js";
import { runMonitor } from "./cli/monitorCli.js";
import { localPaths } from "./targets/local/localPaths.js";

interface GlobalOpts {
  target: string;
  json?: boolean;
  quiet?: boolean;
  repo?: string;
}

function findRepoRoot(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, "mlops.yaml"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new UsageError(`no mlops.yaml in ${start} or above; run mlops inside the repository (or pass --repo <dir>)`);
    dir = up;
  }
}

function repoRootOf(opts: GlobalOpts): string {
  return opts.repo ? path.resolve(opts.repo) : findRepoRoot(process.cwd());
}

async function withTarget<T>(opts: GlobalOpts, fn: (t: CliTarget, m: ReleaseStateMachine) => Promise<T>, reuse?: boolean): Promise<T> {
  const repoRoot = repoRootOf(opts);
  const config = await readReleaseConfig(repoRoot);
  await rotateLogsBySize(path.join(repoRoot, ".mlops", "logs")); // services' logs, by size (host/logRotation.ts)
  const progress = new StderrProgress({ quiet: opts.quiet });
  const target = await createTarget(parseTargetName(opts.target), { repoRoot, config, progress });
  try {
    return await fn(target, new ReleaseStateMachine({ target, config, progress, ...(reuse === false ? { reuse } : {}) }));
  } finally {
    await target.close();
  }
}

function emit(opts: GlobalOpts, json: unknown, text: string): void {
  process.stdout.write(opts.json ? JSON.stringify(json, null, 2) + "\n" : text + "\n");
}

/** A command's result: printed as JSON with --json, else as its text; its exit code, when it has one, is the process's. */
function emitOutcome(opts: GlobalOpts, out: CommandOutput & { exitCode?: number }): void {
  emit(opts, out.json, out.text);
  if (out.exitCode !== undefined) process.exitCode = out.exitCode;
}

/**
 * Runs a command that moves a release; when it ends that release with an error (a gate rejection, failed tests, a
 * failed step) and --json is set, the release record still goes to stdout (CI reads its id and state), then the
 * error goes on to its one line and exit code.
 */
async function releaseOutcome(opts: GlobalOpts, t: CliTarget, run: () => Promise<Release>): Promise<Release> {
  try {
    return await run();
  } catch (e) {
    if (opts.json && e instanceof MlopsError && e.releaseId) {
      const record = await t.store.load(e.releaseId).catch(() => undefined);
      if (record) emit(opts, record, "");
    }
    throw e;
  }
}

function nextStep(r: Release): string {
  switch (r.state) {
    case "awaiting-approval":
      return `next: an approver listed in Pulumi.prod.yaml runs 'npm run mlops -- approve ${r.id} --as <name>', then 'npm run mlops -- promote ${r.id}'`;
    case "approved":
      return `next: 'npm run mlops -- promote ${r.id}'`;
    case "released":
      return `${r.model?.name} v${r.model?.version} is serving in prod`;
    default:
      return `see 'npm run mlops -- status ${r.id}'`;
  }
}

export function buildProgram(): Command {
  const program = new Command("mlops")
    .description("Release driver: test -> train -> gate -> register -> deploy INT -> validate -> approval -> deploy PROD")
    .addOption(new Option("-t, --target <target>", "where the release runs").choices([...TARGETS]).default("local"))
    .option("--json", "machine-readable output on stdout")
    .option("-q, --quiet", "no progress on stderr")
    .option("--repo <dir>", "repository root (default: the nearest folder with mlops.yaml)")
    .showHelpAfterError("(run 'mlops --help' for usage)")
    .exitOverride();

  const g = (cmd: Command): GlobalOpts => cmd.optsWithGlobals() as GlobalOpts;

  program
    .command("release")
    .description("start a release and run it up to the approval hold")
    .option("--no-reuse", "run every step: reuse no earlier passing tests, training or INT profile with the same inputs (kept on resume)")
    .action(async (o: { reuse: boolean }, cmd: Command) => {
      const opts = g(cmd);
      checkStackFiles(repoRootOf(opts));
      const r = await withTarget(
        opts,
        (t, m) =>
          releaseOutcome(opts, t, () =>
            writeReportFor(
              repoRootOf(opts),
              t,
              () => m.start(),
              () => m.activeReleaseId,
            ),
          ),
        o.reuse,
      );
      emit(opts, r, `${renderRelease(r)}\n\nrelease ${r.id}: ${r.state}\n${nextStep(r)}`);
    });

  program
    .command("resume <release-id>")
    .description("continue a failed or interrupted release from the step where it stopped")
    .action(async (id: string, _o, cmd: Command) => {
      const opts = g(cmd);
      const r = await withTarget(opts, (t, m) => releaseOutcome(opts, t, () => m.resume(id)));
      emit(opts, r, `${renderRelease(r)}\n\nrelease ${r.id}: ${r.state}\n${nextStep(r)}`);
    });

  program
    .command("approve <release-id>")
    .description("approve a release validated in INT for PROD (bound to its model version and digest)")
    .option("--as <name>", "your name, as listed in mlops:approvers of Pulumi.prod.yaml (azure: optional, must be the signed-in identity's UPN or object id)")
    .option("--from-azure-devops", "record the identity that approved this Azure Pipelines run's environment check (read with System.AccessToken)")
    .option("--from-github", "record the reviewer who approved this GitHub Actions run's environment (read with GITHUB_TOKEN)")
    .option("--comment <text>", "why, for the audit trail")
    .action(async (id: string, o: { as?: string; fromAzureDevops?: boolean; fromGithub?: boolean; comment?: string }, cmd: Command) => {
      const opts = g(cmd);
      if ([Boolean(o.as), o.fromAzureDevops, o.fromGithub].filter(Boolean).length > 1) {
        throw new UsageError("pass only one of --as <name>, --from-azure-devops or --from-github");
      }
      // A typo in the id is bad input (exit 2), found before the job token goes to the CI system.
      if ((o.fromAzureDevops || o.fromGithub) && !RELEASE_ID.test(id)) {
        throw new UsageError(`'${id}' is not a release id (they look like rel-20261127-093000-ab12); list them with 'mlops status'`);
      }
      const ci = o.fromAzureDevops
        ? await approvalFromAzureDevOps(process.env, o.comment)
        : o.fromGithub
          ? await approvalFromGitHub(process.env, o.comment)
          : undefined;
      const req: ApproveRequest = ci ? { ci, source: o.fromAzureDevops ? "azure-devops" : "github" } : { as: o.as, comment: o.comment };
      const r = await withTarget(opts, (t, m) => approveRelease(m, t, id, req));
      const a = r.approval!;
      const who = a.identity ? ` [${describeIdentity(a.identity)}]` : "";
      emit(opts, r, `release ${r.id}: approved by ${a.by}${who} for ${a.modelName} v${a.modelVersion} (sha256 ${a.digest.slice(0, 12)})\n${nextStep(r)}`);
    });

  program
    .command("promote <release-id>")
    .description("deploy an approved release to PROD, validate it, crown it champion")
    .option("--allow-downgrade", "promote even when PROD serves (or the champion is) a newer model version; going back is 'mlops rollback'")
    .action(async (id: string, o: { allowDowngrade?: boolean }, cmd: Command) => {
      const opts = g(cmd);
      const r = await withTarget(opts, (t, m) =>
        releaseOutcome(opts, t, () =>
          writeReportFor(
            repoRootOf(opts),
            t,
            () => m.promote(id, { allowDowngrade: !!o.allowDowngrade }),
            () => m.activeReleaseId,
          ),
        ),
      );
      emit(opts, r, `${renderRelease(r)}\n\nrelease ${r.id}: ${r.state}\n${nextStep(r)}`);
    });

  program
    .command("status [release-id]")
    .description("releases and what each stack serves (no services are started)")
    .action(async (id: string | undefined, _o, cmd: Command) => {
      const opts = g(cmd);
      await withTarget(opts, async (t, m) => {
        const releases = await m.status(); // records what a dead process left running as interrupted
        if (id) {
          const r = await t.store.load(id);
          emit(opts, r, renderRelease(r));
          return;
        }
        const stacks = await Promise.all(STACKS.map((s) => t.environments.describe(s)));
        const monitors = await readLastMonitors(localPaths(repoRootOf(opts)).stateDir);
        emit(
          opts,
          { ...statusJson(t.name, releases, stacks), monitor: monitors },
          `${renderStatus(releases, stacks)}\n${renderLastMonitors(monitors, repoRootOf(opts))}`,
        );
      });
    });

  program
    .command("monitor <stack>")
    .description("drift of what a stack served against its training data (exit 0 no drift, 9 drift, 10 not enough data); --retrain starts a release on drift")
    .option("--since <duration>", "how far back to look, such as 30m, 24h or 7d (default: monitor.window of mlops.yaml)")
    .option("--retrain", "when drift is found (monitor.mode enabled), start a release whose record says why")
    .action(async (stack: string, o: { since?: string; retrain?: boolean }, cmd: Command) => {
      const opts = g(cmd);
      const repoRoot = repoRootOf(opts);
      const { monitor } = await readReleaseConfig(repoRoot);
      const progress = new StderrProgress({ quiet: opts.quiet });
      const out = await withTarget(opts, (target, machine) => runMonitor({ repoRoot, config: monitor, target, machine, progress, stack, options: o }));
      emitOutcome(opts, out);
    });

  program
    .command("test")
    .description("run the ML unit tests (ml/tests) in the project's Python environment")
    .action(async (_o, cmd: Command) => {
      const opts = g(cmd);
      await withTarget(opts, async (t) => {
        // recorded in the machine's ledger of test runs: a release with the same inputs reuses it (testStep.ts)
        const key = testsReuseKey(await t.source.fingerprint(), t.tests.runner);
        const { report } = await runTestsAndRecord(t, new StderrProgress({ quiet: opts.quiet }), key, MLOPS_TEST_RUN);
        emit(opts, report, report.outputTail.trimEnd());
        if (report.failed > 0 || report.passed === 0) process.exitCode = EXIT.testsFailed;
      });
    });

  program
    .command("profile <stack>")
    .description("load-test a stack's endpoint, record latency/throughput per concurrency and recommend PROD sizing")
    .option("--apply", "write the recommended sizing into Pulumi.prod.yaml (never done otherwise)")
    .action(async (stack: string, o: { apply?: boolean }, cmd: Command) => {
      const opts = g(cmd);
      const out = await withTarget(opts, (t) => profileCommand(repoRootOf(opts), t, stack, { apply: !!o.apply }, new StderrProgress({ quiet: opts.quiet })));
      emitOutcome(opts, out);
    });

  program
    .command("rollback <stack>")
    .description("put the model version that served before back on a stack (validated; crowned champion in prod)")
    .action(async (stack: string, _o, cmd: Command) => {
      const opts = g(cmd);
      const out = await withTarget(opts, (t) => rollbackCommand(t, stack, new StderrProgress({ quiet: opts.quiet })));
      emitOutcome(opts, out);
    });

  program
    .command("score-batch")
    .description("score a CSV/Parquet file (or folder) of feature rows with the model version a stack serves; rejected rows go to <output>.errors.csv")
    .requiredOption("--stack <stack>", "int or prod: score with the version this stack serves")
    .requiredOption("--input <path>", "a .csv/.parquet file with the training columns as header, or a folder of them")
    .requiredOption("--output <file>", "where the predictions go (file,row,prediction); written whole or not at all")
    .option("--version <n>", "score with this registered model version instead of the stack's")
    .action(async (o: { stack: string; input: string; output: string; version?: string }, cmd: Command) => {
      const opts = g(cmd);
      const plan = planScoreBatch(o, process.cwd());
      const repoRoot = repoRootOf(opts);
      const { model } = await readReleaseConfig(repoRoot);
      const out = await withTarget(opts, (t) =>
        scoreBatchCommand({
          target: t,
          modelName: model.name,
          plan,
          progress: new StderrProgress({ quiet: opts.quiet }),
          bar: new BatchProgressBar({ quiet: !!opts.quiet }),
        }),
      );
      emitOutcome(opts, out);
    });

  program
    .command("doctor")
    .description("read-only checks of what a release needs (machine, or Azure before/after 'pulumi up'); exit 8 on any FAIL")
    .option("--stack <stack>", "azure: check one stack (int or prod) instead of both")
    .action(async (o: { stack?: string }, cmd: Command) => {
      const opts = g(cmd);
      const out = await doctorCommand({ repoRoot: repoRootOf(opts), target: parseTargetName(opts.target), ...(o.stack ? { stack: o.stack } : {}) });
      emitOutcome(opts, { json: out.results, text: out.text, exitCode: out.exitCode });
    });

  program
    .command("down")
    .description("stop the background services of the target on this machine")
    .action(async (_o, cmd: Command) => {
      const opts = g(cmd);
      const lines = await withTarget(opts, (t) => t.down());
      emit(opts, { stopped: lines }, lines.length ? lines.join("\n") : "nothing was running");
    });

  return program;
}

/**
 * Both stack files validated before a release runs anything: a bad PROD file would otherwise surface at the
 * approval hold, a bad INT file on Azure at INT's `pulumi up`, each after training. One line, exit 2.
 */
function checkStackFiles(repoRoot: string): void {
  for (const stack of ["int", "prod"] as const) {
    try {
      readStackConfigFile(repoRoot, stack);
    } catch (e) {
      if (!(e instanceof StackConfigError)) throw e;
      throw new ConfigError(
        `stack '${stack}': ${e.problems[0] ?? e.message.split("\n")[0]}; fix Pulumi.${stack}.yaml${e.problems.length > 1 ? ` (and ${e.problems.length - 1} more problem(s) after this one)` : ""}`,
      );
    }
  }
}

/** File-system errors that mean a path mlops must write is not usable (exit 8 instead of an internal error). */
const FS_NOT_READY = new Set(["EEXIST", "ENOTDIR", "EACCES", "EPERM", "EROFS", "ENOSPC"]);

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : EXIT.badInput;
    }
    if (e instanceof MlopsError) {
      process.stderr.write(`mlops: ${e.message}\n`);
      return e.exitCode;
    }
    const fsError = e as { code?: unknown; path?: unknown };
    if (typeof fsError?.path === "string" && typeof fsError.code === "string" && FS_NOT_READY.has(fsError.code)) {
      // The state directory (or a file in it) cannot be made or written: the machine is not ready, not a bug.
      const fix = fsError.code === "ENOSPC" ? "free disk space" : "it must be a writable directory: move the file aside or fix its permissions";
      process.stderr.write(`mlops: cannot create or write ${fsError.path} (${fsError.code}); ${fix} ('mlops doctor' checks it)\n`);
      return EXIT.environment;
    }
    const msg = (e as Error)?.message ?? String(e);
    process.stderr.write(`mlops: internal error: ${msg.split("\n")[0]} (please report it, with the logs under .mlops/logs)\n`);
    if (process.env.MLOPS_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ""}\n`);
    return EXIT.failure;
  }
}

const invokedDirectly = process.argv[1] && /(?:cli\.ts|mlops(?:\.js)?)$/.test(process.argv[1]);
if (invokedDirectly) {
  process.exitCode = await main(process.argv);
}
