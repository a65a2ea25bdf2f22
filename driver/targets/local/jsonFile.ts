/** Small JSON state files: atomic write (temp + rename), tolerant read. */
import { mkdir, readFile, rename, writeFile, rm } from "node:fs/promises";
import path from "node:path";

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}

/** The parsed file, or undefined when it is missing or not valid JSON. */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export async function removeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
