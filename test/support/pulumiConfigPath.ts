/** What `pulumi config set --path` / `config rm --path` do to a stack's stored config object, for comparing our edits with the CLI's. */
import { parse } from "yaml";
import { pathValue } from "../../driver/pulumi/stackConfigEdit.js";

export type Obj = Record<string, unknown>;

/** What `pulumi config set --path <key.path> <value>` / `config rm --path` do to the stored config object. */
export function applyPathCommand(config: Obj, args: string[]): void {
  const [, op, , key, value] = args;
  const [ns, ...rest] = key!.split(":");
  const segments = rest.join(":").split(".");
  const top = `${ns}:${segments[0]}`;
  let node = config as Obj;
  const pathKeys = [top, ...segments.slice(1)];
  for (const k of pathKeys.slice(0, -1)) {
    if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
    node = node[k] as Obj;
  }
  const last = pathKeys[pathKeys.length - 1]!;
  if (op === "rm") delete node[last];
  else node[last] = pathValue(value!);
}

export const configOf = (text: string): Obj => (parse(text) as { config: Obj }).config;
