/**
 * The router's admin access file (JSON: admin URL, token, pid), mode 0600, beside its state file:
 * `.mlops/stacks/prod/router.json` -> `router.admin.json`. The router makes the token itself and writes the
 * file once its admin listener is up, so the token is never in a command line, an environment or a log. The
 * file is created with mode 0600 (never readable by others, not even for an instant) and renamed into place.
 */
import { randomBytes } from "node:crypto";
import { chmod, open, readFile, rename, rm } from "node:fs/promises";
import type { RouterAdminAccess } from "./routerTypes.js";

export const adminFileFor = (stateFile: string): string => `${stateFile.replace(/\.json$/, "")}.admin.json`;

/** 256 random bits, URL-safe. */
export const newAdminToken = (): string => randomBytes(32).toString("base64url");

export async function writeAdminFile(file: string, access: RouterAdminAccess): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fh = await open(tmp, "wx", 0o600);
  try {
    // the mode given to open() is masked by the umask; make it exactly 0600 before anything is written
    await fh.chmod(0o600);
    await fh.writeFile(`${JSON.stringify(access)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await chmod(file, 0o600);
}

/** The access file's content; throws one line naming the file when it is missing or not an admin file. */
export async function readAdminFile(file: string): Promise<RouterAdminAccess> {
  let raw: Partial<RouterAdminAccess>;
  try {
    raw = JSON.parse(await readFile(file, "utf8")) as Partial<RouterAdminAccess>;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(`${file} ${missing ? "does not exist: prod's router is not running (a release or 'mlops resume' starts it)" : "is not valid JSON"}`);
  }
  if (typeof raw.url !== "string" || typeof raw.token !== "string" || typeof raw.pid !== "number")
    throw new Error(`${file} is not a router admin file (needs url, token, pid)`);
  return { url: raw.url, token: raw.token, pid: raw.pid };
}

export const removeAdminFile = (file: string): Promise<void> => rm(file, { force: true });
