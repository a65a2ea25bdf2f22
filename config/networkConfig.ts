/**
 * `mlops:network`: the opt-in private network of a stack (components/privateNetwork.ts). Off by default;
 * when `private: true` the stack gets a VNet with three subnets, private endpoints for the workspace, its
 * storage, Key Vault and registry, public network access off on those four, AKS and the training cluster
 * in the VNet and the inference router on an internal load balancer. Every resource is then tagged
 * `network: private`, which the policy pack keys on.
 *
 * The address plan must be valid IPv4 CIDR blocks, the subnets inside the address space and apart from
 * each other and from the AKS service and pod ranges this program sets (AKS_NETWORK below).
 */
import { z } from "zod";
import { NETWORK_TAG } from "./networkTag.js";

export { NETWORK_TAG };

/**
 * Kubernetes ranges of the AKS cluster in the VNet (Azure CNI Overlay: nodes take subnet addresses,
 * pods this overlay range; services the service range). They must not overlap the VNet.
 */
export const AKS_NETWORK = { podCidr: "10.244.0.0/16", serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10" } as const;

/** Azure keeps five addresses of every subnet (network, broadcast and three for Azure services). */
export const AZURE_RESERVED_PER_SUBNET = 5;

export const NETWORK_DEFAULTS = {
  private: false,
  addressSpace: "10.40.0.0/16",
  subnets: { aks: "10.40.0.0/22", training: "10.40.4.0/24", privateEndpoints: "10.40.5.0/24" },
} as const;

export interface NetworkConfig {
  /** True: private endpoints, public network access off, AKS and training in the VNet, internal router. */
  readonly private: boolean;
  readonly addressSpace: string;
  readonly subnets: { readonly aks: string; readonly training: string; readonly privateEndpoints: string };
}

/** An IPv4 block as [first address, size]; undefined unless `a.b.c.d/n` with the host bits zero. */
export function parseCidr(text: string): { first: number; size: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const first = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return first % size === 0 ? { first, size } : undefined;
}

const cidr = z
  .string({ error: 'must be an IPv4 CIDR block such as "10.40.0.0/16"' })
  .refine((v) => parseCidr(v) !== undefined, { error: 'must be an IPv4 CIDR block such as "10.40.0.0/16" (address aligned to the prefix length)' });

export const networkSchema = z
  .strictObject({
    private: z.boolean({ error: "must be true or false" }).default(NETWORK_DEFAULTS.private),
    addressSpace: cidr.default(NETWORK_DEFAULTS.addressSpace),
    subnets: z
      .strictObject({
        aks: cidr.default(NETWORK_DEFAULTS.subnets.aks),
        training: cidr.default(NETWORK_DEFAULTS.subnets.training),
        privateEndpoints: cidr.default(NETWORK_DEFAULTS.subnets.privateEndpoints),
      })
      .default({ ...NETWORK_DEFAULTS.subnets }),
  })
  .default({ ...NETWORK_DEFAULTS, subnets: { ...NETWORK_DEFAULTS.subnets } });

const inside = (inner: { first: number; size: number }, outer: { first: number; size: number }) =>
  inner.first >= outer.first && inner.first + inner.size <= outer.first + outer.size;
const overlap = (a: { first: number; size: number }, b: { first: number; size: number }) => a.first < b.first + b.size && b.first < a.first + a.size;

/**
 * The network rules that span keys, one line each (`key` spells a config key, e.g. mlops:network.subnets.aks).
 * `tags` are the stack's tags before the network tag is added.
 */
export function networkProblems(
  network: NetworkConfig,
  context: { nodeCount: number; tags: Readonly<Record<string, string>>; key: (path: readonly string[]) => string },
): string[] {
  const { key } = context;
  const problems: string[] = [];
  const tag = context.tags[NETWORK_TAG.name];
  if (tag !== undefined && tag !== (network.private ? NETWORK_TAG.private : undefined)) {
    problems.push(
      `${key(["tags", NETWORK_TAG.name])} (${JSON.stringify(tag)}) is set by the program from ${key(["network", "private"])} (${network.private}): remove the tag`,
    );
  }
  if (!network.private) return problems;
  const space = parseCidr(network.addressSpace)!;
  const subnets = Object.entries(network.subnets).map(([name, text]) => ({ name, text, block: parseCidr(text)! }));
  for (const subnet of subnets) {
    if (!inside(subnet.block, space)) {
      problems.push(
        `${key(["network", "subnets", subnet.name])} (${subnet.text}) must lie inside ${key(["network", "addressSpace"])} (${network.addressSpace})`,
      );
    }
    for (const [range, text] of [
      ["AKS service range", AKS_NETWORK.serviceCidr],
      ["AKS pod range", AKS_NETWORK.podCidr],
    ] as const) {
      if (overlap(subnet.block, parseCidr(text)!)) {
        problems.push(`${key(["network", "subnets", subnet.name])} (${subnet.text}) overlaps the ${range} ${text}: pick another block`);
      }
    }
  }
  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      const [a, b] = [subnets[i]!, subnets[j]!];
      if (overlap(a.block, b.block)) {
        problems.push(`${key(["network", "subnets", a.name])} (${a.text}) overlaps ${key(["network", "subnets", b.name])} (${b.text})`);
      }
    }
  }
  const aks = subnets.find((s) => s.name === "aks")!;
  // Nodes, one surge node during an upgrade, and the internal load balancer's frontend address.
  const needed = context.nodeCount + 2;
  if (aks.block.size - AZURE_RESERVED_PER_SUBNET < needed) {
    problems.push(
      `${key(["network", "subnets", "aks"])} (${aks.text}) has ${Math.max(0, aks.block.size - AZURE_RESERVED_PER_SUBNET)} usable addresses, fewer than the ${needed} the nodes, an upgrade surge node and the internal load balancer need: pick a larger block`,
    );
  }
  return problems;
}
