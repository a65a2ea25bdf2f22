/**
 * Edits `mlops:serving` (model and deployments) in `Pulumi.<stack>.yaml` with the `yaml` Document API, so the
 * file keeps its comments and key order and the promotion is a reviewable, committable diff.
 *
 * The result is what `pulumi config set --path` would store (Pulumi's `adjustObjectValue`: with --path, a
 * value that is an integer without a leading zero is stored as an integer, "true"/"false" as booleans, the rest
 * as strings). `servingPathCommands` lists those commands; the tests prove the file edit and the commands agree.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isMap, parseDocument, YAMLMap, type Document } from "yaml";
import { ConfigError } from "../core/errors.js";
import { writeFileAtomic } from "../store/atomicFile.js";
import type { ServingConfig } from "./servingDecision.js";

export const SERVING_KEY = "mlops:serving";

export function stackFile(repoRoot: string, stack: string): string {
  return path.join(repoRoot, `Pulumi.${stack}.yaml`);
}

/** How `pulumi config set --path` types a value given on the command line. */
export function pathValue(text: string): string | number | boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  if (text.length > 1 && text.startsWith("0")) return text;
  return /^[+-]?[0-9]+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text;
}

/** The `pulumi config set --path` / `config rm --path` argument lists that produce `next` from `before`. */
export function servingPathCommands(before: ServingConfig, next: ServingConfig): string[][] {
  const cmds: string[][] = [];
  if (before.model !== next.model) cmds.push(["config", "set", "--path", `${SERVING_KEY}.model`, next.model]);
  for (const name of Object.keys(before.deployments)) {
    if (!(name in next.deployments)) cmds.push(["config", "rm", "--path", `${SERVING_KEY}.deployments.${name}`]);
  }
  for (const [name, d] of Object.entries(next.deployments)) {
    const old = before.deployments[name];
    if (old?.version !== d.version) cmds.push(["config", "set", "--path", `${SERVING_KEY}.deployments.${name}.version`, d.version]);
    if (old?.weight !== d.weight) cmds.push(["config", "set", "--path", `${SERVING_KEY}.deployments.${name}.weight`, String(d.weight)]);
  }
  return cmds;
}

function servingMap(doc: Document, file: string): YAMLMap {
  const node = doc.getIn(["config", SERVING_KEY]);
  if (!isMap(node)) throw new ConfigError(`${file} has no ${SERVING_KEY} map under config:; add it (see Pulumi.int.yaml) and run again`);
  return node;
}

/** Applies `next` to the document text; returns the new text (comments and unrelated keys untouched). */
export function editServingYaml(text: string, next: ServingConfig, file = "Pulumi.<stack>.yaml"): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError(`${file} is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  const serving = servingMap(doc, file);
  if (serving.get("model") !== next.model) serving.set("model", next.model);

  const found: unknown = serving.get("deployments", true);
  let map: YAMLMap;
  if (isMap(found)) {
    map = found;
  } else {
    map = new YAMLMap();
    serving.set("deployments", map);
  }
  // `deployments: {}` is a flow map; entries added to it should read like the rest of the file.
  if (map.flow) map.flow = false;
  for (const item of [...map.items]) {
    const name = String((item.key as { value?: unknown })?.value ?? item.key);
    if (!(name in next.deployments)) map.delete(item.key);
  }
  for (const [name, d] of Object.entries(next.deployments)) {
    const existing: unknown = map.get(name, true);
    let e: YAMLMap;
    if (isMap(existing)) {
      e = existing;
    } else {
      e = new YAMLMap();
      map.set(name, e);
    }
    const version = pathValue(d.version);
    if (e.get("version") !== version) e.set("version", version);
    if (e.get("weight") !== d.weight) e.set("weight", d.weight);
  }
  return doc.toString();
}

/** Reads `mlops:serving.model` and `.deployments` as the driver sees them. */
export function readServingYaml(text: string, file = "Pulumi.<stack>.yaml"): ServingConfig {
  const doc = parseDocument(text);
  const serving = servingMap(doc, file).toJS(doc) as { model?: unknown; deployments?: Record<string, { version?: unknown; weight?: unknown }> | null };
  const deployments: ServingConfig["deployments"] = {};
  for (const [name, d] of Object.entries(serving.deployments ?? {})) {
    deployments[name] = { version: String(d?.version ?? ""), weight: Number(d?.weight ?? 0) };
  }
  return { model: String(serving.model ?? ""), deployments };
}

export async function readServing(repoRoot: string, stack: string): Promise<ServingConfig> {
  const file = stackFile(repoRoot, stack);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new ConfigError(`${path.basename(file)} not found in ${repoRoot}; the azure target deploys through the Pulumi stack '${stack}'`);
  }
  return readServingYaml(text, path.basename(file));
}

/** Writes `next` into Pulumi.<stack>.yaml atomically; returns true when the file changed. */
export async function writeServing(repoRoot: string, stack: string, next: ServingConfig): Promise<boolean> {
  const file = stackFile(repoRoot, stack);
  const text = await readFile(file, "utf8");
  const edited = editServingYaml(text, next, path.basename(file));
  if (edited === text) return false;
  await writeFileAtomic(file, edited);
  return true;
}
