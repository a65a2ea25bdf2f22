/**
 * Seeded secrets: distinctive fake values of each kind of secret a release handles, and a search for every one
 * of them in every file under a directory and in captured text. A leak shows as `<where>: <secret kind>`.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

export interface SeededSecrets {
  /** kind -> value */
  values: Record<string, string>;
  /** the environment that carries them (the names Azure SDKs, Pulumi and the Azure CLI read) */
  env: Record<string, string>;
}

export function seedSecrets(): SeededSecrets {
  const tag = randomBytes(6).toString("hex");
  const values = {
    "client secret": `seedClientSecret~${tag}~Qx8`,
    "SAS token": `sv=2024-11-04&ss=b&srt=sco&sp=rwl&se=2030-01-01T00:00:00Z&sig=seedSas${tag}%2Bsig%3D`,
    "storage account key": `seedStorageKey${tag}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==`,
    "Pulumi passphrase": `seed-pulumi-passphrase-${tag}`,
    "int endpoint key": `seedIntEndpointKey${tag}`,
    "prod endpoint key": `seedProdEndpointKey${tag}`,
  };
  return {
    values,
    env: {
      AZURE_CLIENT_ID: "00000000-0000-0000-0000-00000000c1d0",
      AZURE_TENANT_ID: "00000000-0000-0000-0000-0000000070a0",
      AZURE_CLIENT_SECRET: values["client secret"],
      AZURE_STORAGE_SAS_TOKEN: values["SAS token"],
      AZURE_STORAGE_KEY: values["storage account key"],
      PULUMI_CONFIG_PASSPHRASE: values["Pulumi passphrase"],
    },
  };
}

/** Every file under `dir` (binary ones too), as [path, bytes]. */
export async function filesUnder(dir: string): Promise<Array<[string, Buffer]>> {
  const out: Array<[string, Buffer]> = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push([p, await readFile(p)]);
    }
  };
  await walk(dir);
  return out;
}

/** `<where>: <kind>` for each seeded value found in each named text or file content. */
export function leaks(secrets: SeededSecrets, places: Array<[string, string | Buffer]>): string[] {
  const found: string[] = [];
  for (const [where, content] of places) {
    const bytes = typeof content === "string" ? Buffer.from(content) : content;
    for (const [kind, value] of Object.entries(secrets.values)) {
      // the value itself, and the parts of a SAS token a log line might quote on their own
      const needles = [value, ...(kind === "SAS token" ? [value.split("sig=")[1]!] : [])];
      if (needles.some((n) => bytes.includes(n))) found.push(`${where}: ${kind}`);
    }
  }
  return found;
}
