/**
 * approvers[prod]: who may approve a release for PROD (`mlops:approvers` in Pulumi.prod.yaml, read with the same
 * validation `mlops approve` and `pulumi up` apply), and what an approval on this machine records: the OS user and
 * host, not an authenticated identity (driver/host/localIdentity.ts; docs/threat-model.md). No approvers is a
 * warning (a release still reaches the approval hold, but nobody can approve it); an invalid stack file is a FAIL.
 */
import { localIdentity } from "../../host/localIdentity.js";
import { StackFileApprovers } from "../../pulumi/stackApprovers.js";
import type { Check, CheckResult } from "../checkResult.js";
import { fail, ok, warn } from "../checkResult.js";
import type { LocalDoctorContext } from "./localChecks.js";

const NAME = "approvers[prod]";

export const approversCheck: Check<LocalDoctorContext> = {
  name: "approvers",
  async run(ctx): Promise<CheckResult> {
    const me = localIdentity();
    let names: string[];
    try {
      names = await new StackFileApprovers(ctx.repoRoot, async () => me).approvers("prod");
    } catch (e) {
      return fail(NAME, (e as Error).message.replace(/; fix it and retry$/, ""), "fix Pulumi.prod.yaml (the same check 'pulumi up' makes)");
    }
    if (names.length === 0)
      return warn(
        NAME,
        "nobody may approve a release for prod: Pulumi.prod.yaml lists no mlops:approvers",
        "list the approvers' names under mlops:approvers in Pulumi.prod.yaml",
      );
    return ok(
      NAME,
      `${names.length} may approve (${names.join(", ")}); an approval here records the OS user ${me.authenticated ? me.names.join(", ") : `${me.osUser}@${me.host}`}, not an authenticated identity ('approve <id> --as <name>')`,
    );
  },
};
