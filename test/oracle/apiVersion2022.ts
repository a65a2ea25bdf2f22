/**
 * The driver speaks ARM api-version 2022-10-01 (@azure/arm-machinelearning 2.1.1) while the SDK oracle judges with
 * 2025-12-01. This walks a body along the 2022-10-01 client's own serialization mappers (polymorphic
 * discriminators resolved) and lists the JSON paths of keys that version does not define, so a test can tell
 * "unknown to the SDK because 2025-12-01 dropped it" (a version difference, written down) from "unknown to both"
 * (a defect).
 */
import * as mappers from "@azure/arm-machinelearning/dist-esm/src/models/mappers.js";

interface MapperType {
  name: string;
  className?: string;
  modelProperties?: Record<string, Mapper>;
  polymorphicDiscriminator?: { serializedName: string };
  uberParent?: string;
  value?: Mapper;
  element?: Mapper;
}
interface Mapper {
  serializedName?: string;
  type: MapperType;
}

const ALL = Object.values(mappers as unknown as Record<string, unknown>).filter(
  (m): m is Mapper => typeof m === "object" && m !== null && "type" in m && typeof (m as Mapper).type === "object",
);
const byClass = new Map<string, Mapper>();
for (const m of ALL) if (m.type.className && m.type.modelProperties) byClass.set(m.type.className, m);

/** The 2022-10-01 class names of the request/response bodies the tests judge. */
export const BODY_CLASS_2022 = {
  codeVersion: "CodeVersion",
  environmentVersion: "EnvironmentVersion",
  modelVersion: "ModelVersion",
  modelContainer: "ModelContainer",
  job: "JobBase",
  datastore: "Datastore",
  compute: "ComputeResource",
  onlineEndpoint: "OnlineEndpoint",
  onlineDeployment: "OnlineDeployment",
  endpointAuthKeys: "EndpointAuthKeys",
} as const;

/** The concrete mapper for a body: the subtype whose wire name is the discriminator's value and that extends the base. */
function resolve(base: Mapper, body: Record<string, unknown>): Mapper {
  const disc = base.type.polymorphicDiscriminator?.serializedName;
  if (!disc) return base;
  const value = body[disc];
  const baseKeys = Object.keys(base.type.modelProperties ?? {});
  const sub = ALL.find(
    (m) =>
      m !== base &&
      m.serializedName === value &&
      // not m.type.polymorphicDiscriminator: 2.1.1 leaves it off some subtypes (UriFolderJobOutput), see jobSubmit.ts
      baseKeys.every((k) => k in (m.type.modelProperties ?? {})),
  );
  return sub ?? base;
}

function walk(m: Mapper | undefined, value: unknown, path: string, out: string[]): void {
  if (!m || value === null || value === undefined) return;
  const t = m.type;
  if (t.name === "Composite") {
    if (typeof value !== "object" || Array.isArray(value)) return;
    const base = t.modelProperties ? m : byClass.get(t.className ?? "");
    if (!base) return;
    const concrete = resolve(base, value as Record<string, unknown>);
    const props = concrete.type.modelProperties ?? {};
    const bySerialized = new Map(Object.values(props).map((p) => [p.serializedName ?? "", p]));
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const here = path ? `${path}.${k}` : k;
      // "properties.x" style flattening is not used by these models; a key is known when a property serializes to it
      const p = bySerialized.get(k);
      if (!p) out.push(here);
      else walk(p, v, here, out);
    }
    return;
  }
  if (t.name === "Dictionary" && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(t.value, v, `${path}.${k}`, out);
    return;
  }
  if (t.name === "Sequence" && Array.isArray(value)) value.forEach((v, i) => walk(t.element, v, `${path}[${i}]`, out));
}

/** JSON paths of `body` that api-version 2022-10-01 does not define for this resource kind. */
export function unknownTo2022(kind: keyof typeof BODY_CLASS_2022, body: unknown): string[] {
  const out: string[] = [];
  walk(byClass.get(BODY_CLASS_2022[kind]), body, "", out);
  return out;
}

/** Wire names of the fields a 2022-10-01 model class defines. */
export function fields2022(className: string): string[] {
  const m = byClass.get(className);
  if (!m) throw new Error(`api-version 2022-10-01 has no model ${className}`);
  return Object.values(m.type.modelProperties ?? {})
    .map((p) => p.serializedName ?? "")
    .sort();
}

/**
 * How api-version 2022-10-01 (the driver) and 2025-12-01 (the SDK oracle, azure-native 3.x) differ on the model
 * classes of the bodies the driver sends and reads. Checked by test/unit/azure/oracle/judge.sdk.test.ts, so this
 * list cannot go stale. 2022-10-01 defines nothing 2025-12-01 lacks: every field the driver can send is judged.
 */
export const VERSION_DIFFERENCES: Record<string, { only2022: string[]; only2025: string[] }> = {
  CodeVersionProperties: { only2022: [], only2025: ["provisioningState"] },
  EnvironmentVersionProperties: { only2022: [], only2025: ["provisioningState", "stage"] },
  ModelVersionProperties: { only2022: [], only2025: ["datasets", "provisioningState", "stage"] },
  ModelContainerProperties: { only2022: [], only2025: ["provisioningState"] },
  JobBase: { only2022: [], only2025: [] },
  CommandJob: { only2022: [], only2025: ["notificationSetting", "queueSettings"] },
  UriFolderJobOutput: { only2022: [], only2025: ["assetName"] },
  JobService: { only2022: [], only2025: ["nodes"] },
  AzureBlobDatastore: { only2022: [], only2025: ["resourceGroup", "subscriptionId"] },
  OnlineEndpoint: { only2022: [], only2025: [] },
  OnlineEndpointProperties: { only2022: [], only2025: ["mirrorTraffic"] },
  EndpointAuthKeys: { only2022: [], only2025: [] },
};
