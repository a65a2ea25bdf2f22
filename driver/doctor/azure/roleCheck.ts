/**
 * The caller's roles against what each stack needs (docs/azure-target.md, "Roles for the pipeline identity"). The
 * caller's assignments, including those inherited from groups, come from Role Assignments - List For Scope at the
 * subscription with `$filter=assignedTo('{objectId}')` (api-version 2022-04-01; the filter is documented in
 * learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest: "including ones inherited from
 * groups"); at the subscription scope the list has assignments at, above and below it. Built-in roles are known by
 * their ids, the same in every tenant (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
 * A custom role is not expanded: where one could grant what is missing, the result is a warning, not a FAIL (an
 * unknown role id is looked up with Role Definitions - Get, api-version 2022-04-01: `roleType` CustomRole).
 * Deny assignments and ABAC conditions are not evaluated.
 *
 * This checks the identity running doctor: run it in the pipeline (or with the pipeline's identity) to check that one.
 */
import { resourceNames } from "../../../config/naming.js";
import type { StackName } from "../../core/release.js";
import type { Check, CheckResult } from "../checkResult.js";
import { fail, notChecked, ok, warn } from "../checkResult.js";
import { stackCheck, type AzureDoctorContext, type RoleAssignmentView } from "./azureDoctorContext.js";

export const ROLE_ASSIGNMENTS_API = "2022-04-01";

export const ROLE_IDS = {
  Owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
  "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
  "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
  "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
} as const;
type RoleName = keyof typeof ROLE_IDS;
const NAME_OF = new Map<string, RoleName>(Object.entries(ROLE_IDS).map(([n, id]): [string, RoleName] => [id, n as RoleName]));

interface Need {
  what: string;
  /** any of these roles satisfies it */
  roles: RoleName[];
  /** the scope the role must cover (at it or above) */
  scope: string;
  /** a missing role FAILs (else warns: the resource does not exist yet) */
  blocking: boolean;
  assign: RoleName;
}

/** An assignment at a scope covers `target` when it is at the target or above it (management groups: above). */
export function covers(scope: string, target: string): boolean {
  const s = scope.toLowerCase().replace(/\/+$/, "");
  const t = target.toLowerCase();
  return s === "" || /^\/providers\/microsoft\.management\/managementgroups\//.test(s) || t === s || t.startsWith(`${s}/`);
}

function needsOf(ctx: AzureDoctorContext, stack: StackName): Need[] | undefined {
  const c = ctx.configs.get(stack);
  const sub = `/subscriptions/${ctx.subscriptionId}`;
  if (!c) return undefined;
  const names = resourceNames({ subscriptionId: ctx.subscriptionId!, stack, prefix: c.namePrefix });
  const d = ctx.deployed.get(stack);
  const rg = `${sub}/resourceGroups/${d?.resourceGroup ?? names.resourceGroup}`;
  const ws = `${rg}/providers/Microsoft.MachineLearningServices/workspaces/${d?.workspace ?? names.workspace}`;
  const st = `${rg}/providers/Microsoft.Storage/storageAccounts/${names.storageAccount}`;
  return [
    { what: "create and change the resources (pulumi up)", roles: ["Contributor", "Owner"], scope: d ? rg : sub, blocking: true, assign: "Contributor" },
    {
      what: "create role assignments (components/roles.ts)",
      roles: ["Owner", "User Access Administrator", "Role Based Access Control Administrator"],
      scope: d ? rg : sub,
      blocking: true,
      assign: "Role Based Access Control Administrator",
    },
    {
      what: "Azure ML assets, jobs, endpoint keys",
      roles: ["AzureML Data Scientist", "Contributor", "Owner"],
      scope: ws,
      blocking: !!d,
      assign: "AzureML Data Scientist",
    },
    {
      what: "blobs in the workspace storage (snapshots, records, model copy)",
      roles: ["Storage Blob Data Contributor", "Storage Blob Data Owner"],
      scope: st,
      blocking: !!d,
      assign: "Storage Blob Data Contributor",
    },
  ];
}

export const rolesCheck: Check<AzureDoctorContext> = {
  name: "roles",
  async run(ctx) {
    if (!ctx.subscriptionId || !ctx.identity) return notChecked("roles", "no subscription or credential (see above)");
    const { arm } = ctx.deps.armClients(ctx.subscriptionId);
    const raw = await arm.list<{ properties?: { scope?: string; roleDefinitionId?: string } }>(
      `/subscriptions/${ctx.subscriptionId}/providers/Microsoft.Authorization/roleAssignments`,
      ROLE_ASSIGNMENTS_API,
      { $filter: `assignedTo('${ctx.identity.objectId}')` },
    );
    const assignments: RoleAssignmentView[] = raw.map((a) => ({
      scope: a.properties?.scope ?? "",
      roleDefinitionGuid: (a.properties?.roleDefinitionId ?? "").split("/").pop()!.toLowerCase(),
    }));
    ctx.roleAssignments = assignments;
    const custom = new Set<string>();
    for (const guid of new Set(assignments.map((a) => a.roleDefinitionGuid).filter((g) => g && !NAME_OF.has(g)))) {
      const d = await arm.get<{ properties?: { roleType?: string } }>(
        `/subscriptions/${ctx.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
        ROLE_ASSIGNMENTS_API,
      );
      if (d.status !== 200 || d.body?.properties?.roleType !== "BuiltInRole") custom.add(guid);
    }
    const out: CheckResult[] = [];
    for (const stack of ctx.stacks) {
      const name = stackCheck("roles", stack);
      const needs = needsOf(ctx, stack);
      if (!needs) {
        out.push(notChecked(name, "no valid stack config (see stack-config)"));
        continue;
      }
      const have: string[] = [];
      const missing: Need[] = [];
      let customNearby = false;
      for (const n of needs) {
        const at = assignments.filter((a) => covers(a.scope, n.scope));
        const hit = at.find((a) => n.roles.some((r) => ROLE_IDS[r] === a.roleDefinitionGuid));
        if (hit) have.push(NAME_OF.get(hit.roleDefinitionGuid)!);
        else {
          missing.push(n);
          if (at.some((a) => custom.has(a.roleDefinitionGuid))) customNearby = true;
        }
      }
      const held = [...new Set(have)].join(", ") || "none of the needed roles";
      const blocking = missing.filter((m) => m.blocking);
      const fixes = missing.map((m) => `az role assignment create --assignee-object-id ${ctx.identity!.objectId} --role "${m.assign}" --scope ${m.scope}`);
      if (blocking.length && !customNearby) {
        out.push(
          fail(
            name,
            `${ctx.identity.name} holds ${held}; missing: ${blocking.map((m) => `${m.roles.join(" or ")} at ${m.scope} (${m.what})`).join("; ")}`,
            fixes.join(" && "),
          ),
        );
      } else if (missing.length) {
        const why = customNearby
          ? " (a custom role at a covering scope may grant it: check its actions)"
          : missing.every((m) => !m.blocking)
            ? " (the resources do not exist yet: assign after the first up)"
            : "";
        out.push(
          warn(
            name,
            `${ctx.identity.name} holds ${held}; missing: ${missing.map((m) => `${m.roles.join(" or ")} for ${m.what}`).join("; ")}${why}`,
            fixes.join(" && "),
          ),
        );
      } else out.push(ok(name, `${ctx.identity.name} holds ${held}`));
    }
    return out;
  },
};
