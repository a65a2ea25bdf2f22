/**
 * The name an approval is recorded under, given who is running the command. An authenticated identity may only
 * approve under one of its own names (`--as` another name is refused); with no `--as`, the first of its names that
 * mlops:approvers lists is used. An unauthenticated (local) identity must say who it is with `--as`: the record
 * then says the name was not checked.
 */
import { ApprovalError } from "./errors.js";
import type { ApproverIdentity } from "./release.js";

/** How an identity is shown in messages and the status view: "alice@contoso.com (Entra ID token, object id 1234…)". */
export function describeIdentity(id: ApproverIdentity): string {
  if (!id.authenticated) return `unauthenticated: OS user ${id.osUser} on ${id.host}`;
  const source = { "entra-id": "Entra ID token", "azure-devops": "Azure DevOps environment check", github: "GitHub environment review" }[id.source];
  const shown = id.names.filter((n) => n !== id.objectId);
  return `${shown.join(" / ") || id.objectId || "?"} (${source}${id.objectId ? `, object id ${id.objectId}` : ""})`;
}

/**
 * The name to record, among `approvers` (case-insensitive, as listed). `as` is what the user typed (may be empty
 * when the identity is authenticated). Throws ApprovalError naming what is wrong and what to do.
 */
export function approverName(as: string | undefined, identity: ApproverIdentity, approvers: readonly string[]): string {
  const typed = as?.trim() ?? "";
  const listedAs = (name: string) => approvers.find((a) => a.toLowerCase() === name.toLowerCase());
  if (!identity.authenticated) {
    if (!typed) throw new ApprovalError("approver name is empty; pass --as <name> with a name listed in mlops:approvers of Pulumi.prod.yaml");
    return listedAs(typed) ?? typed;
  }
  const own = identity.names.filter(Boolean);
  if (typed) {
    if (!own.some((n) => n.toLowerCase() === typed.toLowerCase())) {
      throw new ApprovalError(
        `--as '${typed}' is not who is signed in (${describeIdentity(identity)}); approve as yourself, or sign in as '${typed}' and run it again`,
      );
    }
    return listedAs(typed) ?? typed;
  }
  for (const n of own) {
    const hit = listedAs(n);
    if (hit) return hit;
  }
  // not listed: the core's approver check refuses it, naming who may approve
  return own[0] ?? "";
}
