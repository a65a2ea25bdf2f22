#!/usr/bin/env node
// Entry point of the `mlops` CLI: registers the TypeScript loader, then runs driver/cli.ts.
import { register } from "tsx/esm/api";
import { fileURLToPath } from "node:url";
import path from "node:path";

const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  process.stderr.write(`mlops: Node.js ${process.versions.node} is too old (need >= 22); run it through npx or npm scripts so the project's Node is used.\n`);
  process.exit(2);
}
register();
const here = path.dirname(fileURLToPath(import.meta.url));
await import(path.join(here, "..", "driver", "cli.ts"));
