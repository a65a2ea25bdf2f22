/**
 * Stack configuration: the one typed, validated view of `Pulumi.<stack>.yaml` (`mlops:*` keys).
 *
 * Stable API (used by the Pulumi program and by the release driver; keep it backwards compatible):
 *
 *   parseStackConfig(stackName: string, rawValues: Record<string, unknown>, options?: ParseOptions): StackConfig
 *       rawValues are the `mlops:` keys WITHOUT the namespace (`training`, `serving`, ...).
 *       The TLS secret keys (TLS_SECRET_KEYS) are checked but never kept or quoted; options say which
 *       keys Pulumi handed over as secrets and whether the certificate itself is required (the program).
 *       Values may be native YAML values or JSON strings (as `pulumi.Config` hands them over).
 *       Throws StackConfigError listing every problem, one line each:
 *         stack 'prod': mlops:training.minNodes (5) must be <= mlops:training.maxNodes (4)
 *
 *   readStackConfigFile(repoRoot: string, stack: string): StackConfig
 *       Reads `<repoRoot>/Pulumi.<stack>.yaml` with the `yaml` package, keeps the `config:` keys in
 *       the `mlops:` namespace (other namespaces such as `azure-native:` are ignored), parses them.
 *       Throws StackConfigError when the file is missing or unreadable, too.
 *
 *   rawConfigFromPulumiConfig(allConfig: Record<string, string>): Record<string, unknown>
 *       Turns `pulumi.runtime.allConfig()` (`mlops:<key>` -> string) into rawValues.
 *
 *   class StackConfigError extends Error { stackName: string; problems: readonly string[] }
 *   type StackConfig (below), AUTH_MODES, CONFIG_NAMESPACE.
 *
 * The driver reads `approvers`, `serving.model`, `serving.deployments` (name -> {version, weight})
 * and `isProduction` from here; it never re-parses the YAML itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { AKS_VM_SIZES, AZUREML_EXTENSION_MIN, findAksVmSize } from "./vmSizes.js";
import { DEFAULT_INSTANCE_TYPE, INFERENCE_ROUTER_HA_MIN_NODES } from "./defaultInstanceType.js";
import { parseCpu, parseIsoDurationSeconds, parseMemory } from "./quantities.js";
import { REQUIRED_TAGS } from "./requiredTags.js";
import { valueAt } from "./valueAt.js";
import { NETWORK_TAG, networkProblems, networkSchema, type NetworkConfig } from "./networkConfig.js";

export const CONFIG_NAMESPACE = "mlops";
/**
 * Auth modes of a Kubernetes online endpoint. `AADToken` is for managed online endpoints only
 * (MS Learn, "Authenticate clients for online endpoints"), so it is refused here.
 */
export const AUTH_MODES = ["Key", "AMLToken"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
/** Azure's tag limits (MS Learn, "Use tags to organize your Azure resources", Limitations); name: a storage account's. */
export const TAG_LIMITS = { count: 50, name: 128, value: 256 } as const;

/**
 * Keys read as Pulumi secrets (`pulumi config set --secret`), never parsed into StackConfig and never
 * echoed in an error: the PEM certificate and private key the Azure ML extension's router
 * (azureml-fe) serves TLS with. They reach the extension's configurationProtectedSettings.
 */
export const TLS_SECRET_KEYS = { certificate: "tlsCertificate", privateKey: "tlsPrivateKey" } as const;

export interface ParseOptions {
  /** Keys (namespace stripped) the Pulumi config holds as secrets. */
  readonly secretKeys?: readonly string[];
  /**
   * Require the TLS certificate itself (secretName, or both TLS_SECRET_KEYS) when TLS is on. The
   * program sets it (it reads the secrets); readers of the checked-in file without the Pulumi CLI
   * (the driver) leave it off, since an operator sets the secret keys per stack.
   */
  readonly requireCertificate?: boolean;
}

export class StackConfigError extends Error {
  /** The stack whose config is wrong (not `stack`, which Error uses for the trace). */
  readonly stackName: string;
  /** One line per problem, without the `stack '<name>': ` prefix. */
  readonly problems: readonly string[];
  override readonly name = "StackConfigError";
  constructor(stackName: string, problems: readonly string[]) {
    super(problems.map((p) => `stack '${stackName}': ${p}`).join("\n"));
    this.stackName = stackName;
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

// Small validators: each writes its message once, for a wrong type and a wrong value alike.

/** An integer from `min` to `max` (either end open when left out), with one message. */
function intIn(min: number | undefined, max: number | undefined, message: string) {
  let n = z.number({ error: message }).int({ error: message });
  if (min !== undefined) n = n.min(min, { error: message });
  if (max !== undefined) n = n.max(max, { error: message });
  return n;
}
const positiveInt = (what = "a positive integer") => intIn(1, undefined, `must be ${what}`);
const nonNegativeInt = intIn(0, undefined, "must be an integer >= 0");
/** An integer from `min` to `max`, both inclusive. */
const intFromTo = (min: number, max: number) => intIn(min, max, `must be an integer from ${min} to ${max}`);

/** A string matching `pattern`; `typeMessage` where a value that is no string deserves a shorter word. */
const matching = (pattern: RegExp, message: string, typeMessage = message) => z.string({ error: typeMessage }).regex(pattern, { error: message });
/** A string that `parse` reads (a Kubernetes quantity, an ISO-8601 duration). */
const parsedBy = (parse: (v: string) => unknown, message: string) => z.string({ error: message }).refine((v) => parse(v) !== undefined, { error: message });
const kubeQuantity = (kind: "CPU" | "memory") =>
  kind === "CPU"
    ? parsedBy(parseCpu, 'must be a Kubernetes CPU quantity such as "500m" or "1"')
    : parsedBy(parseMemory, 'must be a Kubernetes memory quantity such as "512Mi" or "2Gi"');
const isoDuration = parsedBy(parseIsoDurationSeconds, 'must be an ISO-8601 duration such as "PT120S" or "PT5M"');
const isBoolean = z.boolean({ error: "must be true or false" });

const resources = z.strictObject({ cpu: kubeQuantity("CPU"), memory: kubeQuantity("memory") });

/** Accepts `"3"` or `3`; a model version is a positive integer, kept as a string. */
const modelVersion = z
  .union([z.string(), z.number()], { error: 'must be a model version: a positive integer such as "3"' })
  .transform((v) => String(v))
  .refine((v) => /^[1-9][0-9]*$/.test(v), { error: 'must be a model version: a positive integer such as "3"' });

const deployment = z.strictObject({
  version: modelVersion,
  weight: intFromTo(0, 100),
});

const DEPLOYMENT_NAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;

const schema = z.strictObject({
  location: matching(
    /^[a-z][a-z0-9]{2,29}$/,
    'must be an Azure region name such as "westeurope" (lowercase letters and digits, no spaces)',
    'must be an Azure region name such as "westeurope"',
  ),
  namePrefix: matching(/^[a-z][a-z0-9]{1,7}$/, "must be 2-8 lowercase letters or digits, starting with a letter"),
  tags: z.record(z.string(), z.string({ error: "tag values must be strings" }), {
    error: "must be a map of tag name to string value",
  }),
  keyVault: z.strictObject({
    purgeProtection: isBoolean,
    softDeleteRetentionDays: intFromTo(7, 90).default(90),
  }),
  training: z.strictObject({
    vmSize: matching(/^(standard|basic)_[a-z0-9_]+$/i, 'must be an Azure VM size such as "STANDARD_D3_V2"'),
    vmPriority: z.enum(["Dedicated", "LowPriority"], { error: "must be one of Dedicated | LowPriority" }).default("Dedicated"),
    minNodes: nonNegativeInt,
    maxNodes: positiveInt(),
    idleScaleDown: isoDuration,
  }),
  aks: z.strictObject({
    vmSize: z.string({ error: `must be one of ${AKS_VM_SIZES.map((s) => s.name).join(" | ")}` }),
    nodeCount: positiveInt(),
    kubernetesVersion: z
      .string()
      .regex(/^\d+\.\d+(\.\d+)?$/, { error: 'must be a Kubernetes version such as "1.32"' })
      .optional(),
    inferenceRouterServiceType: z
      .enum(["LoadBalancer", "NodePort", "ClusterIP"], { error: "must be one of LoadBalancer | NodePort | ClusterIP" })
      .default("LoadBalancer"),
    /** Default: on with 3 or more nodes (the extension's three azureml-fe replicas need three nodes). */
    inferenceRouterHA: isBoolean.optional(),
    /** The extension's default is false (HTTPS); true is for development or test only. */
    allowInsecureConnections: isBoolean.default(false),
    tls: z
      .strictObject({
        cname: matching(
          /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i,
          'must be the DNS name clients call the endpoint by, such as "scoring.example.com"',
        ),
        secretName: matching(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, "must be the name of a Kubernetes secret in the azureml namespace").optional(),
      })
      .optional(),
  }),
  serving: z.strictObject({
    authMode: z.enum(AUTH_MODES, {
      error: `must be one of ${AUTH_MODES.join(" | ")} (a Kubernetes online endpoint does not support AADToken)`,
    }),
    model: matching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, "must be an Azure ML model name (letters, digits, '-', '_', '.')"),
    /**
     * Requests/limits of each deployment's container (the deployment's `resources`); deployments
     * name no instance type, so Azure ML validates these against the cluster's defaultinstancetype.
     */
    instanceType: z.strictObject({
      requests: resources,
      limits: resources,
    }),
    scale: z
      .discriminatedUnion(
        "type",
        [
          z.strictObject({ type: z.literal("Default"), instanceCount: positiveInt() }),
          z.strictObject({
            type: z.literal("TargetUtilization"),
            minInstances: positiveInt(),
            maxInstances: positiveInt(),
            targetUtilizationPercentage: intFromTo(1, 100).default(70),
            pollingIntervalSeconds: positiveInt().default(10),
          }),
        ],
        { error: "type must be one of Default | TargetUtilization" },
      )
      .default({ type: "Default", instanceCount: 1 }),
    requestSettings: z
      .strictObject({
        requestTimeoutMs: positiveInt().default(5000),
        maxConcurrentRequestsPerInstance: positiveInt().default(1),
        maxQueueWaitMs: positiveInt().default(500),
      })
      .default({ requestTimeoutMs: 5000, maxConcurrentRequestsPerInstance: 1, maxQueueWaitMs: 500 }),
    probes: z
      .strictObject({
        initialDelaySeconds: positiveInt().default(10),
        periodSeconds: positiveInt().default(10),
        timeoutSeconds: positiveInt().default(2),
        failureThreshold: positiveInt().default(30),
      })
      .default({ initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 30 }),
    deployments: z
      .record(z.string(), deployment, { error: "must be a map of deployment name to {version, weight}" })
      .nullish()
      .transform((v) => v ?? {}),
  }),
  /** The batch endpoint's deployment on the training cluster (components/batchEndpoint.ts); defaults when absent. */
  batch: z
    .strictObject({
      instanceCount: positiveInt().default(1),
      miniBatchSize: positiveInt("a positive integer (input files per run() call)").default(10),
      maxConcurrencyPerInstance: positiveInt().default(1),
      errorThreshold: z
        .number({ error: "must be -1 (never fail the job on file errors) or an integer >= 0" })
        .int({ error: "must be -1 (never fail the job on file errors) or an integer >= 0" })
        .min(-1, { error: "must be -1 (never fail the job on file errors) or an integer >= 0" })
        .default(-1),
      maxRetries: nonNegativeInt.default(3),
      retryTimeout: isoDuration.default("PT300S"),
    })
    .default({ instanceCount: 1, miniBatchSize: 10, maxConcurrencyPerInstance: 1, errorThreshold: -1, maxRetries: 3, retryTimeout: "PT300S" }),
  /** The opt-in private network (config/networkConfig.ts); off when absent. */
  network: networkSchema,
  approvers: z
    .array(z.string().trim().min(1, { error: "approver names must be non-empty" }), {
      error: "must be a YAML list of approver names",
    })
    .nullish()
    .transform((v) => v ?? []),
});

type ParsedConfig = z.output<typeof schema>;

// ---------------------------------------------------------------------------------------------
// Public type
// ---------------------------------------------------------------------------------------------

export interface ResourceQuantities {
  readonly cpu: string;
  readonly memory: string;
}

export type ScaleConfig =
  | { readonly type: "Default"; readonly instanceCount: number }
  | {
      readonly type: "TargetUtilization";
      readonly minInstances: number;
      readonly maxInstances: number;
      readonly targetUtilizationPercentage: number;
      readonly pollingIntervalSeconds: number;
    };

export interface DeploymentConfig {
  /** Model version served by this deployment, a positive integer as a string. */
  readonly version: string;
  /** Share of the endpoint's traffic, 0..100; all weights sum to 100. */
  readonly weight: number;
}

export interface StackConfig {
  readonly stack: string;
  /** True when tags.environment is `prod`: purge protection and approvers are required. */
  readonly isProduction: boolean;
  readonly location: string;
  readonly namePrefix: string;
  /** Tags for every taggable resource; always holds environment, project and owner. */
  readonly tags: Readonly<Record<string, string>>;
  readonly keyVault: { readonly purgeProtection: boolean; readonly softDeleteRetentionDays: number };
  readonly training: {
    readonly vmSize: string;
    readonly vmPriority: "Dedicated" | "LowPriority";
    readonly minNodes: number;
    readonly maxNodes: number;
    /** ISO-8601 duration, e.g. `PT120S`. */
    readonly idleScaleDown: string;
  };
  readonly aks: {
    /** Canonical spelling from the supported-size table. */
    readonly vmSize: string;
    readonly nodeCount: number;
    readonly vcpuTotal: number;
    readonly memoryGiBTotal: number;
    readonly kubernetesVersion?: string;
    readonly inferenceRouterServiceType: "LoadBalancer" | "NodePort" | "ClusterIP";
    /** Three azureml-fe replicas (needs >= 3 nodes). */
    readonly inferenceRouterHA: boolean;
    /** The extension's clusterPurpose: FastProd with the HA router, DevTest below 3 nodes. */
    readonly clusterPurpose: "FastProd" | "DevTest";
    readonly allowInsecureConnections: boolean;
    /**
     * TLS on azureml-fe, required unless allowInsecureConnections. The certificate comes from an
     * existing Kubernetes secret (`secretName`) or from the secret config keys TLS_SECRET_KEYS
     * (`certificateFrom: "secretConfig"`), which the program reads as Pulumi secrets.
     */
    readonly tls?: { readonly cname: string; readonly secretName?: string; readonly certificateFrom: "kubernetesSecret" | "secretConfig" };
  };
  readonly serving: {
    readonly authMode: AuthMode;
    readonly model: string;
    /** The deployments' container requests and limits (no instance type is named). */
    readonly instanceType: {
      readonly requests: ResourceQuantities;
      readonly limits: ResourceQuantities;
    };
    readonly scale: ScaleConfig;
    readonly requestSettings: {
      readonly requestTimeoutMs: number;
      readonly maxConcurrentRequestsPerInstance: number;
      readonly maxQueueWaitMs: number;
    };
    readonly probes: {
      readonly initialDelaySeconds: number;
      readonly periodSeconds: number;
      readonly timeoutSeconds: number;
      readonly failureThreshold: number;
    };
    /** Deployment name (e.g. blue, green) -> model version and traffic weight. May be empty. */
    readonly deployments: Readonly<Record<string, DeploymentConfig>>;
  };
  /** Batch scoring: a batch endpoint whose deployment runs ml/batch_score.py on the training cluster. */
  readonly batch: {
    /** Training-cluster nodes a batch job uses; at most training.maxNodes. */
    readonly instanceCount: number;
    /** Input files per run(mini_batch) call. */
    readonly miniBatchSize: number;
    readonly maxConcurrencyPerInstance: number;
    /** Failed files tolerated before the job fails; -1 = never (row errors are reported per row anyway). */
    readonly errorThreshold: number;
    readonly maxRetries: number;
    /** ISO-8601 timeout of one run() call. */
    readonly retryTimeout: string;
  };
  /** The private network: off unless `private: true` (then every resource is tagged network: private). */
  readonly network: NetworkConfig;
  /** Names of the people who approve a production release; may be empty outside prod. */
  readonly approvers: readonly string[];
}

/**
 * Compile-time: what StackConfig hands on as parsed is exactly what the schema gives, so a key added to the
 * schema and not to StackConfig (or the other way round) fails the typecheck. (Readonly does not count.)
 */
type Strict<T> = T extends readonly (infer U)[] ? Strict<U>[] : T extends object ? { -readonly [K in keyof T]-?: Strict<T[K]> } : T;
type Same<A, B> = [Strict<A>] extends [Strict<B>] ? ([Strict<B>] extends [Strict<A>] ? true : false) : false;
const _stackConfigMatchesSchema: [
  Same<ParsedConfig["location"] | ParsedConfig["namePrefix"], StackConfig["location"] | StackConfig["namePrefix"]>,
  Same<ParsedConfig["keyVault"], StackConfig["keyVault"]>,
  Same<ParsedConfig["training"], StackConfig["training"]>,
  Same<ParsedConfig["serving"], StackConfig["serving"]>,
  Same<Readonly<ParsedConfig["approvers"]>, StackConfig["approvers"]>,
  Same<ParsedConfig["network"], StackConfig["network"]>,
  Same<
    Omit<ParsedConfig["aks"], "tls" | "inferenceRouterHA">,
    Omit<StackConfig["aks"], "tls" | "inferenceRouterHA" | "vcpuTotal" | "memoryGiBTotal" | "clusterPurpose">
  >,
] = [true, true, true, true, true, true, true];

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

function key(path: readonly PropertyKey[]): string {
  return `${CONFIG_NAMESPACE}:${path.map(String).join(".")}`;
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const where = path.length ? key(path) : `the ${CONFIG_NAMESPACE}: namespace`;
    return `${where} has unknown key(s) ${issue.keys.join(", ")}`;
  }
  const value = valueAt(raw, path);
  if (value === undefined) return `${key(path)} is required: it ${issue.message}`;
  return `${key(path)} (${show(value)}) ${issue.message}`;
}

/** Pulumi hands structured values over as JSON strings; YAML files give native values. */
function normalizeRaw(rawValues: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(rawValues)) {
    if (typeof value === "string" && /^\s*[[{]/.test(value)) {
      try {
        out[name] = JSON.parse(value);
        continue;
      } catch {
        // leave it a string; the schema reports what is wrong with it
      }
    }
    out[name] = value;
  }
  return out;
}

/** What parseStackConfig learns about the TLS secret keys (never their values). */
interface TlsSecrets {
  certificate: boolean;
  privateKey: boolean;
}

const PEM = {
  certificate: { begin: /-----BEGIN CERTIFICATE-----/, what: "a PEM certificate (-----BEGIN CERTIFICATE-----)" },
  privateKey: {
    begin: /-----BEGIN (RSA |EC )?PRIVATE KEY-----/,
    what: "an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----; pass-phrase protected keys are not supported)",
  },
} as const;

/**
 * Takes the TLS secret keys out of `raw` (so the schema never sees them), checks them without ever
 * quoting a value, and records which are present. A value is either the plaintext Pulumi hands the
 * program (secret when listed in options.secretKeys) or `{secure: ...}` as the stack file stores a secret.
 */
function takeTlsSecrets(raw: Record<string, unknown>, options: ParseOptions, problems: string[]): TlsSecrets {
  const found: TlsSecrets = { certificate: false, privateKey: false };
  for (const which of ["certificate", "privateKey"] as const) {
    const name = TLS_SECRET_KEYS[which];
    const value = raw[name];
    delete raw[name];
    if (value === undefined || value === null) continue;
    found[which] = true;
    const fullKey = key([name]);
    const setIt = `pulumi config set --secret ${fullKey} < ${which === "certificate" ? "cert.pem" : "key.pem"}`;
    if (typeof value === "object" && typeof (value as { secure?: unknown }).secure === "string") continue;
    if (typeof value !== "string") {
      problems.push(`${fullKey} must be ${PEM[which].what}, set with '${setIt}'`);
      continue;
    }
    if (which === "privateKey" && !(options.secretKeys ?? []).includes(name)) {
      problems.push(`${fullKey} is stored in plain text: remove it and set it with '${setIt}' (then rotate the key)`);
      continue;
    }
    if (!PEM[which].begin.test(value) || /ENCRYPTED/.test(value)) problems.push(`${fullKey} must be ${PEM[which].what}`);
  }
  return found;
}

function tlsProblems(c: ParsedConfig, isProduction: boolean, secrets: TlsSecrets, options: ParseOptions, problems: string[]): void {
  const insecure = c.aks.allowInsecureConnections;
  const tls = c.aks.tls;
  const certKeys = `${key([TLS_SECRET_KEYS.certificate])} + ${key([TLS_SECRET_KEYS.privateKey])}`;
  if (secrets.certificate !== secrets.privateKey) {
    problems.push(`${certKeys} must be set together (both as Pulumi secrets) or not at all`);
  }
  if (isProduction && insecure) {
    problems.push(
      `${key(["aks", "allowInsecureConnections"])} (true) must be false when tags.environment is prod: the endpoint key would cross the load balancer in clear text; ` +
        `serve over TLS with ${key(["aks", "tls", "cname"])} and a certificate (${key(["aks", "tls", "secretName"])} or ${certKeys})`,
    );
    return;
  }
  if (insecure) {
    if (tls || secrets.certificate || secrets.privateKey) {
      problems.push(
        `${key(["aks", "tls"])} / ${certKeys} are set but ${key(["aks", "allowInsecureConnections"])} is true: set it to false to serve over TLS, or remove the TLS settings`,
      );
    }
    return;
  }
  if (!tls) {
    problems.push(
      `${key(["aks", "tls"])} is required when ${key(["aks", "allowInsecureConnections"])} is false: give cname and a certificate (secretName, or ${certKeys})`,
    );
    return;
  }
  const fromSecretConfig = secrets.certificate && secrets.privateKey;
  if (tls.secretName && fromSecretConfig) {
    problems.push(`${key(["aks", "tls", "secretName"])} and ${certKeys} are both set: use one certificate source`);
    return;
  }
  if (!tls.secretName && !fromSecretConfig && options.requireCertificate) {
    problems.push(
      `${key(["aks", "tls"])} needs a certificate: ${key(["aks", "tls", "secretName"])} (a Kubernetes secret with cert.pem and key.pem in the azureml namespace) or ${certKeys}`,
    );
  }
}

/** Where azureml-fe's certificate comes from (after tlsProblems found nothing wrong). */
function tlsSettings(c: ParsedConfig): StackConfig["aks"]["tls"] {
  const tls = c.aks.tls;
  if (c.aks.allowInsecureConnections || !tls) return undefined;
  return tls.secretName
    ? { cname: tls.cname, secretName: tls.secretName, certificateFrom: "kubernetesSecret" }
    : { cname: tls.cname, certificateFrom: "secretConfig" };
}

/** What the checks and the build both read, derived once from the parsed values. */
interface Derived {
  stack: string;
  /** tags.environment, defaulting to the stack's name */
  environment: string;
  tags: Record<string, string>;
  isProduction: boolean;
  size: ReturnType<typeof findAksVmSize>;
  vcpuTotal: number;
  memoryGiBTotal: number;
  inferenceRouterHA: boolean;
}

function derive(stack: string, c: ParsedConfig): Derived {
  const environment = c.tags["environment"] ?? stack;
  const size = findAksVmSize(c.aks.vmSize);
  return {
    stack,
    environment,
    tags: { ...c.tags, environment, ...(c.network.private ? { [NETWORK_TAG.name]: NETWORK_TAG.private } : {}) },
    isProduction: environment === "prod",
    size,
    vcpuTotal: size ? size.vcpu * c.aks.nodeCount : 0,
    memoryGiBTotal: size ? size.memoryGiB * c.aks.nodeCount : 0,
    inferenceRouterHA: c.aks.inferenceRouterHA ?? c.aks.nodeCount >= INFERENCE_ROUTER_HA_MIN_NODES,
  };
}

/** The rules that span several keys; each problem is one line naming the keys. */
function crossFieldProblems(c: ParsedConfig, d: Derived, secrets: TlsSecrets, options: ParseOptions, problems: string[]): void {
  const { tags, isProduction, size, vcpuTotal, memoryGiBTotal, inferenceRouterHA } = d;
  for (const tag of REQUIRED_TAGS) {
    if (!tags[tag]) problems.push(`${key(["tags", tag])} is required: every resource carries ${REQUIRED_TAGS.join(", ")}`);
  }
  const { environment, stack } = d;
  // MS Learn "Use tags to organize your Azure resources" (Limitations): 50 tags, names 512 (storage accounts 128), values 256.
  const tagNames = Object.keys(tags);
  if (tagNames.length > TAG_LIMITS.count) problems.push(`${key(["tags"])} has ${tagNames.length} tags: Azure allows at most ${TAG_LIMITS.count} per resource`);
  for (const name of tagNames) {
    if (name.length > TAG_LIMITS.name) {
      problems.push(
        `${key(["tags"])} has a tag name of ${name.length} characters (${name.slice(0, 12)}...): Azure allows at most ${TAG_LIMITS.name} on a storage account, which every stack tags`,
      );
    } else if ((tags[name] ?? "").length > TAG_LIMITS.value) {
      problems.push(`${key(["tags", name])} is ${tags[name]!.length} characters long: Azure allows at most ${TAG_LIMITS.value} in a tag value`);
    }
  }
  if (!isProduction && (stack === "prod" || environment.toLowerCase() === "prod")) {
    // The production rules here and in the policy pack compare the tag with "prod" exactly: a near miss would turn them all off.
    problems.push(
      `${key(["tags", "environment"])} (${show(environment)}) must be exactly "prod"${stack === "prod" ? " in the stack named prod" : ""}: the production rules (TLS, purge protection, approvers, policy) key on that value`,
    );
  }

  if (c.training.minNodes > c.training.maxNodes) {
    problems.push(`${key(["training", "minNodes"])} (${c.training.minNodes}) must be <= ${key(["training", "maxNodes"])} (${c.training.maxNodes})`);
  }

  if (!size) {
    problems.push(`${key(["aks", "vmSize"])} (${show(c.aks.vmSize)}) must be one of ${AKS_VM_SIZES.map((s) => s.name).join(" | ")}`);
  } else {
    if (vcpuTotal < AZUREML_EXTENSION_MIN.vcpu || memoryGiBTotal < AZUREML_EXTENSION_MIN.memoryGB) {
      problems.push(
        `${key(["aks"])} (${c.aks.nodeCount} x ${size.name} = ${vcpuTotal} vCPU / ${memoryGiBTotal} GiB) must total at least ` +
          `${AZUREML_EXTENSION_MIN.vcpu} vCPU and ${AZUREML_EXTENSION_MIN.memoryGB} GB, the Azure ML extension's minimum: raise nodeCount or pick a larger vmSize`,
      );
    }
  }

  if (inferenceRouterHA && c.aks.nodeCount < INFERENCE_ROUTER_HA_MIN_NODES) {
    problems.push(
      `${key(["aks", "inferenceRouterHA"])} (true) needs ${key(["aks", "nodeCount"])} >= ${INFERENCE_ROUTER_HA_MIN_NODES} (three azureml-fe replicas on separate nodes), not ${c.aks.nodeCount}: raise nodeCount or set inferenceRouterHA false`,
    );
  }
  tlsProblems(c, isProduction, secrets, options, problems);

  const it = c.serving.instanceType;
  const cpu = { req: parseCpu(it.requests.cpu) ?? 0, lim: parseCpu(it.limits.cpu) ?? 0 };
  const mem = { req: parseMemory(it.requests.memory) ?? 0, lim: parseMemory(it.limits.memory) ?? 0 };
  if (cpu.req > cpu.lim) {
    problems.push(
      `${key(["serving", "instanceType", "requests", "cpu"])} (${it.requests.cpu}) must be <= ${key(["serving", "instanceType", "limits", "cpu"])} (${it.limits.cpu})`,
    );
  }
  if (mem.req > mem.lim) {
    problems.push(
      `${key(["serving", "instanceType", "requests", "memory"])} (${it.requests.memory}) must be <= ${key(["serving", "instanceType", "limits", "memory"])} (${it.limits.memory})`,
    );
  }
  const dit = DEFAULT_INSTANCE_TYPE.limits;
  // MS Learn: "the resource limits must be less than the instance type limits. Otherwise, deployment fails."
  if (cpu.lim >= (parseCpu(dit.cpu) ?? 0) || mem.lim >= (parseMemory(dit.memory) ?? 0)) {
    problems.push(
      `${key(["serving", "instanceType", "limits"])} (${it.limits.cpu} CPU, ${it.limits.memory}) must be less than the limits of the cluster's ${DEFAULT_INSTANCE_TYPE.name} (${dit.cpu} CPU, ${dit.memory}), which Azure ML validates deployments against`,
    );
  }
  if (size && (cpu.lim > size.vcpu || mem.lim > size.memoryGiB * 1024 ** 3)) {
    problems.push(
      `${key(["serving", "instanceType", "limits"])} (${it.limits.cpu} CPU, ${it.limits.memory}) must fit on one ${size.name} node (${size.vcpu} vCPU, ${size.memoryGiB} GiB)`,
    );
  }

  if (c.serving.scale.type === "TargetUtilization" && c.serving.scale.minInstances > c.serving.scale.maxInstances) {
    problems.push(
      `${key(["serving", "scale", "minInstances"])} (${c.serving.scale.minInstances}) must be <= ${key(["serving", "scale", "maxInstances"])} (${c.serving.scale.maxInstances})`,
    );
  }

  const deployments = c.serving.deployments;
  for (const name of Object.keys(deployments)) {
    if (!DEPLOYMENT_NAME.test(name)) {
      problems.push(
        `${key(["serving", "deployments", name])} must be named with 3-32 lowercase letters, digits or '-', starting with a letter (e.g. blue, green)`,
      );
    }
  }
  const names = Object.keys(deployments);
  if (names.length > 0) {
    const total = names.reduce((sum, name) => sum + (deployments[name]?.weight ?? 0), 0);
    if (total !== 100) {
      const parts = names.map((n) => `${n}=${deployments[n]?.weight}`).join(", ");
      problems.push(`${key(["serving", "deployments"])} weights (${parts}) must sum to 100, not ${total}`);
    }
  }

  if (c.batch.instanceCount > c.training.maxNodes) {
    problems.push(
      `${key(["batch", "instanceCount"])} (${c.batch.instanceCount}) must be <= ${key(["training", "maxNodes"])} (${c.training.maxNodes}): batch jobs run on the training cluster`,
    );
  }

  if (isProduction && !c.keyVault.purgeProtection) {
    problems.push(`${key(["keyVault", "purgeProtection"])} (false) must be true when tags.environment is prod`);
  }
  if (isProduction && c.approvers.length === 0) {
    problems.push(`${key(["approvers"])} ([]) must list at least one approver when tags.environment is prod`);
  }
  problems.push(...networkProblems(c.network, { nodeCount: c.aks.nodeCount, tags: c.tags, key }));
  const seen = new Set<string>();
  for (const approver of c.approvers) {
    if (seen.has(approver)) problems.push(`${key(["approvers"])} lists ${show(approver)} twice`);
    seen.add(approver);
  }
}

/** The StackConfig of values that passed every check. */
function buildStackConfig(stack: string, c: ParsedConfig, d: Derived): StackConfig {
  const { tags, isProduction, size, vcpuTotal, memoryGiBTotal, inferenceRouterHA } = d;
  const tls = tlsSettings(c);
  return {
    stack,
    isProduction,
    location: c.location,
    namePrefix: c.namePrefix,
    tags,
    keyVault: c.keyVault,
    training: c.training,
    aks: {
      vmSize: size?.name ?? c.aks.vmSize,
      nodeCount: c.aks.nodeCount,
      vcpuTotal,
      memoryGiBTotal,
      ...(c.aks.kubernetesVersion !== undefined ? { kubernetesVersion: c.aks.kubernetesVersion } : {}),
      inferenceRouterServiceType: c.aks.inferenceRouterServiceType,
      inferenceRouterHA,
      clusterPurpose: inferenceRouterHA ? "FastProd" : "DevTest",
      allowInsecureConnections: c.aks.allowInsecureConnections,
      ...(tls ? { tls } : {}),
    },
    serving: c.serving,
    batch: c.batch,
    network: c.network,
    approvers: c.approvers,
  };
}

/** Validates the `mlops:` values of one stack (namespace stripped) into a StackConfig. */
export function parseStackConfig(stackName: string, rawValues: Record<string, unknown>, options: ParseOptions = {}): StackConfig {
  const raw = normalizeRaw(rawValues);
  const problems: string[] = [];
  const secrets = takeTlsSecrets(raw, options, problems);
  const instanceType = valueAt(raw, ["serving", "instanceType"]);
  if (instanceType !== null && typeof instanceType === "object" && "name" in instanceType) {
    // Stack files written before deployments stopped naming an instance type (the caller's objects stay untouched).
    problems.push(
      `${key(["serving", "instanceType", "name"])} is no longer used: deployments name no instance type and run on the cluster's ${DEFAULT_INSTANCE_TYPE.name} with the requests/limits given here; remove the key`,
    );
    const { name: _name, ...rest } = instanceType as Record<string, unknown>;
    void _name;
    raw["serving"] = { ...(raw["serving"] as Record<string, unknown>), instanceType: rest };
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new StackConfigError(stackName, [...problems, ...result.error.issues.map((issue) => describeIssue(issue, raw))]);
  }
  const derived = derive(stackName, result.data);
  crossFieldProblems(result.data, derived, secrets, options, problems);
  if (problems.length > 0) throw new StackConfigError(stackName, problems);
  return buildStackConfig(stackName, result.data, derived);
}

/** `pulumi.runtime.allConfig()` (`mlops:<key>` -> string) to rawValues for parseStackConfig. */
export function rawConfigFromPulumiConfig(allConfig: Record<string, string>): Record<string, unknown> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(allConfig)) {
    if (fullKey.startsWith(prefix)) raw[fullKey.slice(prefix.length)] = value;
  }
  return raw;
}

/** Reads and validates `<repoRoot>/Pulumi.<stack>.yaml` without the Pulumi CLI. */
export function readStackConfigFile(repoRoot: string, stack: string): StackConfig {
  const file = join(repoRoot, `Pulumi.${stack}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new StackConfigError(stack, [`cannot read ${file}: ${(error as Error).message}`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    // The yaml package appends a code frame after the first line; keep the one line (message and position).
    const first = ((error as Error).message ?? String(error)).split("\n")[0]!.replace(/:\s*$/, "");
    throw new StackConfigError(stack, [`cannot parse ${file} as YAML: ${first}; fix the file (or restore it from git)`]);
  }
  const config = (document as { config?: unknown } | null)?.config;
  if (config === null || typeof config !== "object") {
    throw new StackConfigError(stack, [`${file} has no config: map`]);
  }
  const raw: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(config as Record<string, unknown>)) {
    if (fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) raw[fullKey.slice(CONFIG_NAMESPACE.length + 1)] = value;
  }
  return parseStackConfig(stack, raw);
}
