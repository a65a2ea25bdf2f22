/**
 * The stacks themselves: each Pulumi.<stack>.yaml validated by config/stackConfig.ts (the program's own rules), and
 * whether the stack has been deployed (`pulumi stack output`: a workspaceId means the first `up` ran). Checks
 * after `up` run only for deployed stacks; before `up` a missing stack is expected and reported as such.
 */
import { readStackConfigFile, StackConfigError } from "../../../config/stackConfig.js";
import type { Check, CheckResult } from "../checkResult.js";
import { fail, ok, warn } from "../checkResult.js";
import { stackCheck, str, type AzureDoctorContext } from "./azureDoctorContext.js";

const WORKSPACE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)$/i;

export const stackConfigCheck: Check<AzureDoctorContext> = {
  name: "stack-config",
  async run(ctx) {
    return ctx.stacks.map((stack): CheckResult => {
      const name = stackCheck("stack-config", stack);
      try {
        const c = readStackConfigFile(ctx.repoRoot, stack);
        ctx.configs.set(stack, c);
        return ok(
          name,
          `Pulumi.${stack}.yaml is valid: ${c.location}, AKS ${c.aks.nodeCount} x ${c.aks.vmSize}, training ${c.training.minNodes}-${c.training.maxNodes} x ${c.training.vmSize} (${c.training.vmPriority})`,
        );
      } catch (e) {
        if (e instanceof StackConfigError)
          return fail(name, e.problems[0] ?? e.message, `fix Pulumi.${stack}.yaml (${e.problems.length} problem(s); docs/infrastructure.md lists the keys)`);
        throw e;
      }
    });
  },
};

export const stackOutputsCheck: Check<AzureDoctorContext> = {
  name: "stack",
  async run(ctx) {
    const out: CheckResult[] = [];
    for (const stack of ctx.stacks) {
      const name = stackCheck("stack", stack);
      let values: Record<string, unknown>;
      try {
        values = await ctx.deps.stackOutputs(stack);
      } catch (e) {
        const why = ((e as Error).message ?? String(e)).split("\n")[0]!;
        ctx.notDeployed.set(stack, why);
        out.push(warn(name, `outputs not readable (${why.split(";")[0]})`, "before the first 'pulumi up' this is expected; the checks after up are skipped"));
        continue;
      }
      const m = WORKSPACE_ID.exec(str(values.workspaceId) ?? "");
      if (!m) {
        ctx.notDeployed.set(stack, "no workspaceId output");
        out.push(warn(name, "no workspaceId output: not deployed yet", `run 'pulumi up --stack ${stack}' once the checks above are ok`));
        continue;
      }
      const d = {
        outputs: values,
        subscriptionId: m[1]!,
        resourceGroup: str(values.resourceGroupName) ?? m[2]!,
        workspace: str(values.workspaceName) ?? m[3]!,
      };
      ctx.deployed.set(stack, d);
      if (ctx.subscriptionId && d.subscriptionId.toLowerCase() !== ctx.subscriptionId.toLowerCase()) {
        out.push(
          fail(
            name,
            `deployed in subscription ${d.subscriptionId}, but ${ctx.subscriptionSource ?? "the configuration"} now points pulumi at ${ctx.subscriptionId}: the next up would create a second environment there`,
            `set ARM_SUBSCRIPTION_ID=${d.subscriptionId} (or 'az account set --subscription ${d.subscriptionId}')`,
          ),
        );
        continue;
      }
      out.push(ok(name, `deployed: workspace ${d.workspace} in ${d.resourceGroup}`));
    }
    return out;
  },
};
