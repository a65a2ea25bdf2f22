/**
 * Temp directories for tests, removed when the test file is done: `tempDir(prefix)` makes one under the system's
 * temp directory and remembers it; this module's root hook (loaded for every mocha run by .mocharc.json) removes
 * them after each file (mocha's --parallel runs each file as its own root suite; in one process, at the end). So a
 * test that forgets its `after` leaves nothing in /tmp run after run, including when it fails.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

// One list per process even if this module is loaded twice (mocha loads its --require files apart from the test
// files' imports: a CommonJS and an ES module instance)
const registry = globalThis as { [key: symbol]: string[] | undefined };
const KEY = Symbol.for("mlops.test.tempDirs");
const made: string[] = (registry[KEY] ??= []);

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export const mochaHooks = {
  afterAll(): void {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  },
};
