/**
 * A copy of test/fixtures/localBuildPackage (a package whose in-tree build backend needs nothing from the package
 * index) in a temp dir, so uv and pip really build and install a package offline, and a test can hold the build
 * (file `hold`) to kill the installer at a known point.
 */
import { cp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "localBuildPackage");

export interface LocalBuildPackage {
  dir: string;
  /** the pip requirement line naming it */
  requirement: string;
  /** set by the backend when it starts building (the installer is running) */
  building(): boolean;
  hold(): Promise<void>;
  release(): Promise<void>;
}

export async function localBuildPackage(into: string): Promise<LocalBuildPackage> {
  const dir = path.join(into, "localbuildpkg");
  await cp(FIXTURE, dir, { recursive: true });
  return {
    dir,
    requirement: `localbuildpkg @ ${pathToFileURL(dir).href}`,
    building: () => existsSync(path.join(dir, "building")),
    hold: () => writeFile(path.join(dir, "hold"), ""),
    release: () => rm(path.join(dir, "hold"), { force: true }),
  };
}
