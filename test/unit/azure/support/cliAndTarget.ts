/**
 * What the approver contract tests share: the real `mlops` CLI run as a child process (trusting the loopback
 * fakes' certificate), and a release core on the real azure target over the Azure fakes, with the ML unit tests
 * faked and profiling kept short.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { expect } from "chai";
import path from "node:path";
import { readReleaseConfig, type ReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import type { Target } from "../../../../driver/core/ports.js";
import { ReleaseStateMachine } from "../../../../driver/core/releaseStateMachine.js";
import { createAzureTarget } from "../../../../driver/targets/azure/index.js";
import type { FakeAzure } from "./fakeAzure.js";
import { FakeCredential } from "./fakeCredential.js";
import { RecordingProgress, REPO, settingsFor, tempRepo, type FakeStackUpdater } from "./harness.js";
import { loopbackCert } from "./loopbackTls.js";
import { tempDir } from "../../../support/tempDirs.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/mlops.js --repo <repoRoot> ...args` with a minimal environment plus `extraEnv`. */
export function runCli(repoRoot: string, extraEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  const ca = path.join(tempDir("mlops-ca-"), "ca.pem");
  writeFileSync(ca, loopbackCert().cert);
  return new Promise<CliResult>((resolve) => {
    const p = execFile(
      process.execPath,
      [path.join(REPO, "bin", "mlops.js"), "--repo", repoRoot, ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: repoRoot, NODE_EXTRA_CA_CERTS: ca, ...extraEnv }, cwd: repoRoot },
      (e, stdout, stderr) => resolve({ code: p.exitCode ?? (e as { code?: number } | null)?.code ?? null, stdout, stderr }),
    );
  });
}

/** Profiling of one short level: keeps a release on the fakes fast. */
export const shortProfile = (c: ReleaseConfig): ReleaseConfig => ({
  ...c,
  profile: { ...c.profile, concurrency: [1], secondsPerLevel: 0.2, warmupSeconds: 0 },
});

/**
 * The release core on the real azure target over the fakes, with the ML unit tests faked (one passing test) and the
 * release config from the repository changed by `tweak`. `t` is the target as created, `target` what the core uses;
 * `progress` records its lines (pass one to share it between machines).
 */
export async function azureMachine(
  repoRoot: string,
  fake: FakeAzure,
  updater: FakeStackUpdater,
  tweak: (c: ReleaseConfig) => ReleaseConfig = shortProfile,
  progress = new RecordingProgress(),
): Promise<{ m: ReleaseStateMachine; t: Target; target: Target; progress: RecordingProgress }> {
  const config = tweak(await readReleaseConfig(repoRoot));
  const t = await createAzureTarget(
    { repoRoot, config, progress },
    { credential: new FakeCredential(), updater, settings: settingsFor(fake), blobUrlFor: (a) => `${fake.url}/${a}` },
  );
  const target: Target = { ...t, tests: { runUnitTests: async () => ({ passed: 1, failed: 0, durationMs: 1, outputTail: "1 passed" }) } };
  return { m: new ReleaseStateMachine({ target, config, progress }), t, target, progress };
}

/**
 * Runs the CLI in a fresh temporary repository and checks that it refused: the exit code, nothing on stdout, exactly
 * these lines on stderr, and Pulumi.prod.yaml (where approvals are recorded) byte for byte as before.
 */
export async function expectCliRefusal(extraEnv: NodeJS.ProcessEnv, args: string[], want: { code: number; stderr: string[] }): Promise<void> {
  const repo = tempRepo();
  try {
    const before = readFileSync(path.join(repo.root, "Pulumi.prod.yaml"), "utf8");
    const r = await runCli(repo.root, extraEnv, ...args);
    expect(r.code).to.equal(want.code);
    expect(r.stdout).to.equal("");
    expect(r.stderr.trimEnd().split("\n")).to.deep.equal(want.stderr);
    expect(readFileSync(path.join(repo.root, "Pulumi.prod.yaml"), "utf8")).to.equal(before);
  } finally {
    repo.cleanup();
  }
}
