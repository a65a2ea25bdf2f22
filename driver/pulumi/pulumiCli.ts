/**
 * Finding the pulumi CLI and its backend, with one-line errors: the CLI from <repo>/.tools/bin (built by
 * scripts/build-pulumi.sh) when present, else `pulumi` on PATH; a version check (the Automation API's own minimum,
 * plus MIN_PULUMI_VERSION); and a configured backend (PULUMI_BACKEND_URL, or a login in ~/.pulumi).
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import type { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { EnvironmentError } from "../core/errors.js";

/** The oldest CLI this driver is tested against (`config set --path` typing, `up --skip-preview` JSON summary). */
export const MIN_PULUMI_VERSION = "3.100.0";

function toolsRoot(repoRoot: string): string | undefined {
  const root = path.join(repoRoot, ".tools");
  return existsSync(path.join(root, "bin", "pulumi")) ? root : undefined;
}

function older(a: string, b: string): boolean {
  const pa = a
    .replace(/^v/, "")
    .split(/[.-]/)
    .map((x) => parseInt(x, 10) || 0);
  const pb = b.split(".").map((x) => parseInt(x, 10));
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  return false;
}

const cache = new Map<string, Promise<PulumiCommand>>();

export function pulumiCommand(repoRoot: string): Promise<PulumiCommand> {
  const root = toolsRoot(repoRoot);
  const key = root ?? "PATH";
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const { PulumiCommand } = await import("@pulumi/pulumi/automation/index.js");
      let cmd: PulumiCommand;
      try {
        cmd = await PulumiCommand.get(root ? { root } : {});
      } catch (e) {
        const msg = (e as Error)?.message ?? String(e);
        if (/Minimum version|Major version/.test(msg)) {
          throw new EnvironmentError(
            `the pulumi CLI ${root ? `in ${root}/bin ` : ""}is not a version the Automation API supports (${msg.split(".")[0]}); install Pulumi >= ${MIN_PULUMI_VERSION} and run again`,
          );
        }
        throw new EnvironmentError(
          root
            ? `${root}/bin/pulumi does not run; rebuild it with scripts/build-pulumi.sh or remove it to use pulumi from PATH`
            : "the pulumi CLI was not found on PATH; install Pulumi >= " +
                MIN_PULUMI_VERSION +
                " (or build it with scripts/build-pulumi.sh into .tools/bin) and run again",
        );
      }
      const version = cmd.version?.toString() ?? "";
      if (version && older(version, MIN_PULUMI_VERSION)) {
        throw new EnvironmentError(`the pulumi CLI is version ${version}, older than ${MIN_PULUMI_VERSION}; upgrade it and run again`);
      }
      return cmd;
    })();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/** Where Pulumi keeps state, or undefined when neither PULUMI_BACKEND_URL nor a `pulumi login` is configured. */
export function configuredBackend(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.PULUMI_BACKEND_URL?.trim();
  if (url) return url.replace(/\?.*$/, "");
  if (env.PULUMI_ACCESS_TOKEN?.trim()) return "Pulumi Cloud (PULUMI_ACCESS_TOKEN)";
  const home = env.PULUMI_HOME?.trim() || path.join(env.HOME?.trim() || homedir(), ".pulumi");
  try {
    const creds = JSON.parse(readFileSync(path.join(home, "credentials.json"), "utf8")) as { current?: string };
    return creds.current || undefined;
  } catch {
    return undefined;
  }
}

/** Secrets in a self-managed backend need a passphrase in a non-interactive run. */
export function passphraseConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.PULUMI_CONFIG_PASSPHRASE !== undefined || env.PULUMI_CONFIG_PASSPHRASE_FILE?.trim());
}
