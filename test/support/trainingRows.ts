/** The training data's feature rows (ml/data.txt without its header and target), for tests and benches. */
import { readFileSync } from "node:fs";
import path from "node:path";

const REPO = path.resolve(import.meta.dirname, "..", "..");

export const FEATURES: readonly string[] = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"];

export function trainingRows(repoRoot = REPO): number[][] {
  return readFileSync(path.join(repoRoot, "ml", "data.txt"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(",").slice(0, FEATURES.length).map(Number));
}
