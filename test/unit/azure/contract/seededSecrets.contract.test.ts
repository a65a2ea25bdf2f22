/**
 * Seeded secrets through a whole azure release (contract test against the loopback Azure fakes): endpoint
 * keys served by the fake's listKeys (and sent, as they must be, in the scoring requests' Authorization
 * header), and a client secret, a SAS token, a storage key and the Pulumi passphrase in the environment the
 * release runs in. None may appear in the progress lines, stdout, stderr, the release records and reports
 * (blobs and local files), any file written under the temp repository, or any request body sent to Azure.
 */
import { expect } from "chai";
import type { ReleaseConfig } from "../../../../driver/config/releaseConfig.js";
import { ReleaseStateMachine } from "../../../../driver/core/releaseStateMachine.js";
import { renderRelease } from "../../../../driver/cli/render.js";
import { writeReleaseReport } from "../../../../driver/report/writeReleaseReport.js";
import { filesUnder, leaks, seedSecrets } from "../../../support/seededSecrets.js";
import { FakeAzure } from "../support/fakeAzure.js";
import { azureMachine, shortProfile } from "../support/cliAndTarget.js";
import { FakeStackUpdater, RecordingProgress, tempRepo } from "../support/harness.js";

describe("seeded secrets through an azure release (contract test against the loopback Azure fakes)", function () {
  this.timeout(60_000);

  it("contract test: release, approve, promote with seeded keys and secrets: none in progress, stdout, stderr, records, reports, files or request bodies", async () => {
    const secrets = seedSecrets();
    const fake = await new FakeAzure().start();
    fake.endpointKeys.set("int", secrets.values["int endpoint key"]!).set("prod", secrets.values["prod endpoint key"]!);
    const repo = tempRepo();
    const savedEnv = { ...process.env };
    const out: string[] = [];
    const realOut = process.stdout.write.bind(process.stdout);
    const realErr = process.stderr.write.bind(process.stderr);
    try {
      Object.assign(process.env, secrets.env);
      process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        out.push(`stdout: ${String(chunk)}`);
        return realOut(chunk, ...(rest as []));
      }) as typeof process.stdout.write;
      process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        out.push(`stderr: ${String(chunk)}`);
        return realErr(chunk, ...(rest as []));
      }) as typeof process.stderr.write;

      const updater = new FakeStackUpdater(repo.root, fake);
      const progress = new RecordingProgress();
      const config = (c: ReleaseConfig): ReleaseConfig => ({
        ...shortProfile(c),
        rollout: { ...c.rollout, observeSeconds: 0.25, probeRps: 40, minRequests: 4 },
      });
      const machine = async (): Promise<ReleaseStateMachine> => (await azureMachine(repo.root, fake, updater, config, progress)).m;
      const r = await (await machine()).start();
      expect(r.state, JSON.stringify(r.steps)).to.equal("awaiting-approval");
      await (await machine()).approve(r.id, "alice@contoso.com");
      const promoted = await (await machine()).promote(r.id);
      expect(promoted.state).to.equal("released");
      const report = await writeReleaseReport(repo.root, promoted);

      // the keys did flow: every scoring request carried its stack's key, in the header and only there
      const scoring = fake.requests.filter((q) => q.path.startsWith("/score/"));
      expect(scoring.some((q) => q.headers.authorization === `Bearer ${secrets.values["int endpoint key"]}`)).to.equal(true);
      expect(scoring.some((q) => q.headers.authorization === `Bearer ${secrets.values["prod endpoint key"]}`)).to.equal(true);

      const places: Array<[string, string | Buffer]> = [
        ["progress", progress.lines.join("\n")],
        ["stdout/stderr", out.join("")],
        ["release record", JSON.stringify(promoted)],
        ["rendered release", renderRelease(promoted)],
        ...[...fake.blobs].map(([name, b]): [string, Buffer] => [`blob ${name}`, b.data]),
        ...(await filesUnder(repo.root)).map(([p, b]): [string, Buffer] => [p, b]),
        ...fake.requests.map((q): [string, string] => [`${q.method} ${q.path} body`, JSON.stringify(q.body ?? "")]),
      ];
      expect(places.map(([w]) => w)).to.include.members([report.markdown, report.html].filter(Boolean) as string[]);
      expect(leaks(secrets, places)).to.deep.equal([]);
    } finally {
      process.stdout.write = realOut;
      process.stderr.write = realErr;
      for (const k of Object.keys(secrets.env)) if (!(k in savedEnv)) delete process.env[k];
      Object.assign(process.env, savedEnv);
      await fake.stop();
      repo.cleanup();
    }
  });
});
