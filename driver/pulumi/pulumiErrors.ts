/**
 * Pulumi Automation API failures as the driver's typed, one-line errors. Pulumi's own messages are multi-line
 * and may quote the command's output; only a short, secret-free summary is kept.
 */
import { ConcurrentUpdateError, StackNotFoundError } from "@pulumi/pulumi/automation/index.js";
import { DeploymentError, EnvironmentError, MlopsError, ReleaseLockedError } from "../core/errors.js";

const firstUsefulLine = (text: string): string =>
  text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => /^error:/i.test(l))
    ?.replace(/^error:\s*/i, "")
    .slice(0, 240) ?? "";

export function mapPulumiError(e: unknown, stack: string, action: string): MlopsError {
  if (e instanceof MlopsError) return e;
  if (e instanceof ConcurrentUpdateError) {
    return new ReleaseLockedError(
      `stack '${stack}' is locked by another update (pulumi ${action}); wait for it to finish, or run 'pulumi cancel --stack ${stack}' if that update is gone`,
    );
  }
  if (e instanceof StackNotFoundError) {
    return new EnvironmentError(
      `Pulumi stack '${stack}' does not exist in the configured backend; create it with 'pulumi stack init ${stack}' and 'pulumi up --stack ${stack}' (see docs/azure-target.md)`,
    );
  }
  const text = (e as Error)?.message ?? String(e);
  if (/ENOENT|not found|spawn pulumi/i.test(text) && /pulumi/.test(text) && !/stack/i.test(text)) {
    return new EnvironmentError("the pulumi CLI was not found on PATH; install it (or build it with scripts/build-pulumi.sh into .tools/bin) and run again");
  }
  if (/passphrase/i.test(text)) {
    return new EnvironmentError(`Pulumi needs the stack's secrets passphrase; set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) and run again`);
  }
  if (/PULUMI_ACCESS_TOKEN|pulumi login|not logged in/i.test(text)) {
    return new EnvironmentError(
      "no Pulumi backend is configured; set PULUMI_BACKEND_URL (e.g. azblob://<container>?storage_account=<account>) or run 'pulumi login' and run again",
    );
  }
  const line = firstUsefulLine(text) || text.split("\n")[0]!.slice(0, 240);
  return new DeploymentError(`pulumi ${action} on stack '${stack}' failed: ${line}; see the pulumi output above`);
}
