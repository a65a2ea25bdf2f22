/**
 * The sizing recommendation as the exact change to a stack file (`Pulumi.prod.yaml`): the
 * `mlops:serving.instanceType` requests/limits and the instance count (`scale.instanceCount`, or
 * `scale.minInstances` with `maxInstances` raised to match when autoscaling). The keys are found with the
 * `yaml` package's Document API and only the source range of each changed value is replaced, so every other
 * byte (comments, their alignment, quoting elsewhere) stays as it was; re-stringifying the whole Document
 * would re-align comments on untouched lines. The edited file is validated with the stack config schema
 * before it is offered; `applyConfigChange` writes it (only on `--apply`).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { isMap, isScalar, parse, parseDocument, stringify, type Document } from "yaml";
import { CONFIG_NAMESPACE, parseStackConfig, StackConfigError } from "../../config/stackConfig.js";
import { ConfigError } from "../core/errors.js";
import { unifiedDiff } from "./lineDiff.js";
import type { SizingRecommendation } from "./profileTypes.js";

export interface KeyChange {
  /** e.g. mlops:serving.instanceType.requests.cpu */
  key: string;
  from: string | number;
  to: string | number;
}

export interface ConfigChange {
  file: string;
  stack: string;
  changes: KeyChange[];
  /** unified diff of the file; "" when nothing changes */
  diff: string;
  /** the whole file after the change */
  after: string;
}

const SERVING = `${CONFIG_NAMESPACE}:serving`;

interface Edit {
  start: number;
  end: number;
  text: string;
}

function setScalar(doc: Document, keyPath: string[], value: string | number, changes: KeyChange[], edits: Edit[]): void {
  const node = doc.getIn(["config", SERVING, ...keyPath], true);
  const key = `${SERVING}.${keyPath.join(".")}`;
  if (!isScalar(node) || !node.range) throw new ConfigError(`${key} is missing or not a plain value; add it to the stack file and run again`);
  const from = node.value as string | number;
  if (String(from) === String(value)) return;
  // plain where it reads back the same, quoted where it would not ("1" stays a string)
  edits.push({ start: node.range[0], end: node.range[1], text: stringify(value).trimEnd() });
  changes.push({ key, from, to: value });
}

/** Plans the change to `text` (the contents of `Pulumi.<stack>.yaml`); nothing is written. */
export function planConfigChange(text: string, stack: string, rec: SizingRecommendation, fileName = `Pulumi.${stack}.yaml`): ConfigChange {
  if (!rec.feasible)
    throw new ConfigError(`the profile found no load level within the SLO, so there is no sizing to apply to ${fileName}; see the profile's reasoning`);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError(`${fileName} is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  const serving = doc.getIn(["config", SERVING], true);
  if (!isMap(serving)) throw new ConfigError(`${fileName} has no ${SERVING} map; add the serving section and run again`);
  const changes: KeyChange[] = [];
  const edits: Edit[] = [];
  const set = (keyPath: string[], value: string | number): void => setScalar(doc, keyPath, value, changes, edits);
  set(["instanceType", "requests", "cpu"], rec.requests.cpu);
  set(["instanceType", "requests", "memory"], rec.requests.memory);
  set(["instanceType", "limits", "cpu"], rec.limits.cpu);
  set(["instanceType", "limits", "memory"], rec.limits.memory);
  const scaleType = doc.getIn(["config", SERVING, "scale", "type"]);
  if (scaleType === "TargetUtilization") {
    set(["scale", "minInstances"], rec.instances);
    const max = Number(doc.getIn(["config", SERVING, "scale", "maxInstances"]));
    if (!(max >= rec.instances)) set(["scale", "maxInstances"], rec.instances);
  } else if (scaleType === "Default" || scaleType === undefined) {
    if (doc.getIn(["config", SERVING, "scale"]) === undefined)
      throw new ConfigError(`${fileName} has no ${SERVING}.scale; add scale: {type: Default, instanceCount: 1} and run again`);
    set(["scale", "instanceCount"], rec.instances);
  } else {
    throw new ConfigError(`${SERVING}.scale.type in ${fileName} is ${String(scaleType)}; expected Default or TargetUtilization`);
  }
  let after = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) after = after.slice(0, e.start) + e.text + after.slice(e.end);
  validateStackText(after, stack, fileName);
  return { file: fileName, stack, changes, diff: unifiedDiff(text, after, { from: `a/${fileName}`, to: `b/${fileName}` }), after };
}

/** The edited file must still be a valid stack config (e.g. limits must fit on one AKS node). */
function validateStackText(text: string, stack: string, fileName: string): void {
  const config = (parse(text) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (k.startsWith(`${CONFIG_NAMESPACE}:`)) raw[k.slice(CONFIG_NAMESPACE.length + 1)] = v;
  try {
    parseStackConfig(stack, raw);
  } catch (e) {
    if (e instanceof StackConfigError) {
      throw new ConfigError(
        `the recommended sizing would make ${fileName} invalid (${e.problems.join("; ")}); size the AKS nodes up or lower profile.limitFactor`,
      );
    }
    throw e;
  }
}

export async function readConfigChange(repoRoot: string, stack: string, rec: SizingRecommendation): Promise<ConfigChange> {
  const fileName = `Pulumi.${stack}.yaml`;
  let text: string;
  try {
    text = await readFile(path.join(repoRoot, fileName), "utf8");
  } catch {
    throw new ConfigError(`${fileName} not found in ${repoRoot}; run mlops from the repository root`);
  }
  return planConfigChange(text, stack, rec, fileName);
}

/** Writes the planned file atomically. */
export async function applyConfigChange(repoRoot: string, change: ConfigChange): Promise<void> {
  const file = path.join(repoRoot, change.file);
  const tmp = `${file}.mlops-${process.pid}.tmp`;
  await writeFile(tmp, change.after);
  await rename(tmp, file);
}
