/** Small JSON state files: atomic write (temp + rename), tolerant read. */
import { readFile, rm } from "node:fs/promises";
import { writeFileAtomic } from "../store/atomicFile.js";

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
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
