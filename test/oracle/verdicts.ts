/**
 * How a test reads the oracle's verdict: which findings are defects, which are written-down differences between
 * API versions or limits of the SDK's own entity classes. Every exception below names its reason; anything else the
 * SDK reports is a defect and fails the test.
 */
import { unknownTo2022, BODY_CLASS_2022 } from "./apiVersion2022.js";
import type { ResourceKind, Verdict } from "./sdkOracle.js";

export type ApiVersion = "2022-10-01" | "2025-12-01";

/**
 * Fields the SDK's entity classes (azure-ai-ml 1.35.2) do not carry through `_from_rest_object` ->
 * `_to_rest_object()` although the REST model defines them; a round trip through the entity loses them for any
 * body, including the SDK's own. These are limits of the entity layer, not of the REST contract, so they are not
 * defects of the body. Each names the SDK code responsible and, where the loss depends on the value, when it holds.
 */
export interface EntityLimit {
  reason: string;
  /** the loss is tolerated only when this holds (default: always) */
  applies?: (sent: unknown, v: Verdict) => boolean;
}

const subSecond = (d: unknown): boolean => typeof d === "string" && /^PT0(\.\d+)?S$/.test(d);

export const SDK_ENTITY_LIMITS: Partial<Record<ResourceKind, Record<string, EntityLimit>>> = {
  codeVersion: {
    // entities/_assets/_artifacts/code.py Code._to_rest_object: code_uri, is_anonymous and hash properties only
    "properties.description": { reason: "Code._to_rest_object() writes no description" },
    "properties.tags": { reason: "Code._to_rest_object() writes no tags" },
    "properties.isArchived": { reason: "Code._to_rest_object() writes no isArchived (azure-native sends its default false)" },
  },
  environmentVersion: {
    // entities/_assets/environment.py Environment._to_rest_object
    "properties.autoRebuild": { reason: "Environment._to_rest_object() writes no autoRebuild (azure-native sends its default Disabled)" },
  },
  modelVersion: {
    // entities/_assets/_artifacts/model.py: _from_rest_object reads job_name, _to_rest_object never writes it
    "properties.jobName": { reason: "Model._to_rest_object() has no job_name" },
  },
  onlineEndpoint: {
    // entities/_endpoint/online_endpoint.py: public_network_access exists on ManagedOnlineEndpoint only
    "properties.publicNetworkAccess": {
      reason: "KubernetesOnlineEndpoint has no public_network_access (azure-native sends its default Enabled)",
      applies: (_sent, v) => v.entity === "KubernetesOnlineEndpoint",
    },
  },
  batchEndpoint: {
    // entities/_endpoint/batch_endpoint.py: _from_rest_object reads auth_mode through camel_to_snake ("aad_token") and
    // _to_rest_batch_endpoint writes snake_to_camel of it ("aadToken"): the SDK's own body differs in case only from
    // the REST enum value AADToken (EndpointAuthMode), which is what azure-native sends
    "properties.authMode": { reason: "the SDK re-cases AADToken as aadToken on its round trip", applies: (sent) => sent === "AADToken" },
  },
  onlineDeployment: {
    // entities/_deployment/deployment_settings.py OnlineRequestSettings._from_rest_object reads durations through
    // from_iso_duration_format (int(total_seconds())), so PT0.5S becomes 0 ms and to_iso_duration_format_ms drops it
    "properties.requestSettings.maxQueueWait": { reason: "the SDK reads request durations as whole seconds", applies: subSecond },
    "properties.requestSettings.requestTimeout": { reason: "the SDK reads request durations as whole seconds", applies: subSecond },
    // entities/_deployment/deployment_collection.py: _from_rest_object reads dataCollectionMode == "Enabled" (the REST
    // enum value, what azure-native sends) and _to_rest_object writes "enabled": a re-casing only (ml/score.py's collections)
    ...Object.fromEntries(
      ["model_inputs", "model_outputs", "mlops_requests"].map((c) => [
        `properties.dataCollector.collections.${c}.dataCollectionMode`,
        { reason: "the SDK re-cases Enabled as enabled on its round trip", applies: (sent: unknown) => sent === "Enabled" },
      ]),
    ),
  },
};

export interface JudgeOptions {
  /** the API version the body is sent with: the driver's 2022-10-01 client, or azure-native's 2025-12-01 */
  apiVersion: ApiVersion;
  /** a request body (PUT/POST) rather than an answer: read-only fields and round-trip losses count */
  request: boolean;
}

/** The SDK's findings that are defects of this body, one line each (empty: the SDK accepts it). */
export function sdkDefects(v: Verdict, body: unknown, o: JudgeOptions): string[] {
  const out: string[] = [];
  // 2022-10-01 defines no field of these bodies that 2025-12-01 lacks (VERSION_DIFFERENCES, checked by a test), so
  // a key unknown to the SDK is a defect in either version; a key only 2025-12-01 knows is one the driver's
  // 2022-10-01 client does not define.
  const unknown2022 =
    o.apiVersion === "2022-10-01" && v.kind in BODY_CLASS_2022 ? new Set(unknownTo2022(v.kind as keyof typeof BODY_CLASS_2022, body)) : new Set<string>();
  for (const k of v.unknownKeys) {
    out.push(`unknown key ${k} (${v.restModel}, api-version 2025-12-01${unknown2022.has(k) ? " and 2022-10-01" : ""})`);
  }
  for (const k of unknown2022) if (!v.unknownKeys.includes(k)) out.push(`key ${k} is not defined by api-version 2022-10-01, which the driver sends`);
  for (const x of v.unknownValues) out.push(`unknown value ${x}`);
  for (const x of v.typeErrors) out.push(`wrong type: ${x}`);
  for (const x of v.missingRequired) out.push(`missing required ${x}`);
  if (v.conversionError) out.push(`the SDK cannot convert it: ${v.conversionError}`);
  // an answer must carry what Azure's answers carry: the SDK reads these keys without a None check
  if (!o.request) for (const x of v.shims) out.push(`answer lacks ${x}, which the SDK reads unconditionally`);
  if (o.request) {
    for (const x of v.readOnlySent) out.push(`read-only field sent: ${x}`);
    const limits = SDK_ENTITY_LIMITS[v.kind] ?? {};
    for (const l of v.lost) {
      const limit = limits[l.path];
      if (limit && (limit.applies?.(l.sent, v) ?? true)) continue;
      out.push(`lost in the SDK round trip: ${l.path} sent ${JSON.stringify(l.sent)}, back ${JSON.stringify(l.back)}`);
    }
  }
  return out;
}

/** Kind and envelope (id, name) of an ARM request path of the Azure ML workspace, or undefined if not judged. */
export function armResourceOf(path: string): { kind: ResourceKind; id: string; name: string } | undefined {
  const m = /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+)(\/.*)$/.exec(path);
  if (!m) return undefined;
  const rest = m[2]!;
  const table: [RegExp, ResourceKind][] = [
    [/^\/codes\/[^/]+\/versions\/([^/]+)$/, "codeVersion"],
    [/^\/environments\/[^/]+\/versions\/([^/]+)$/, "environmentVersion"],
    [/^\/models\/[^/]+\/versions\/([^/]+)$/, "modelVersion"],
    [/^\/models\/([^/]+)$/, "modelContainer"],
    [/^\/jobs\/([^/]+)$/, "job"],
    [/^\/datastores\/([^/]+)$/, "datastore"],
    [/^\/computes\/([^/]+)$/, "compute"],
    [/^\/onlineEndpoints\/([^/]+)$/, "onlineEndpoint"],
    [/^\/onlineEndpoints\/[^/]+\/deployments\/([^/]+)$/, "onlineDeployment"],
  ];
  for (const [re, kind] of table) {
    const hit = re.exec(rest);
    if (hit) return { kind, id: path, name: hit[1]! };
  }
  return undefined;
}
