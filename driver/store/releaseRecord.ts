/**
 * Reading a release record back from its JSON text: the fields every command relies on (id, state, steps, events,
 * deployments) are checked before the record is used, so a truncated or hand-broken file is recognised as such
 * instead of failing deep inside a command. Fields it does not name are kept as they are.
 */
import { z } from "zod";
import { withAllSteps, type Release } from "../core/release.js";

const step = z.looseObject({
  status: z.enum(["pending", "running", "succeeded", "failed", "skipped"]),
  attempts: z.number(),
});

const record = z.looseObject({
  schema: z.literal(1),
  id: z.string(),
  target: z.string(),
  modelName: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  state: z.enum(["running", "failed", "rejected", "awaiting-approval", "approved", "released"]),
  steps: z.record(z.string(), step),
  deployments: z.record(z.string(), z.looseObject({ modelVersion: z.string(), digest: z.string() })),
  validations: z.record(z.string(), z.unknown()),
  events: z.array(z.looseObject({ at: z.string(), event: z.string() })),
});

/** The record of release `id`, or the reason its text is not one (one line). */
export function parseReleaseRecord(text: string, id: string): { release: Release } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { problem: text.trim() === "" ? "the file is empty" : `not JSON (${(e as Error).message.split("\n")[0]})` };
  }
  const parsed = record.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { problem: `${issue.path.join(".") || "the record"}: ${issue.message}` };
  }
  if (parsed.data.id !== id) return { problem: `it holds release ${parsed.data.id}, not ${id}` };
  return { release: withAllSteps(parsed.data as unknown as Release) };
}
