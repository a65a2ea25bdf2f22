/**
 * TrainingCluster: the workspace's AmlCompute cluster, autoscaling between min and max nodes
 * (the design's `az ml computetarget setup amlcompute --autoscale-min-nodes .. --autoscale-max-nodes ..`).
 * Adding capacity is an edit of mlops:training plus `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices/index.js";

export interface TrainingClusterArgs {
  resourceGroupName: pulumi.Input<string>;
  workspaceName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** Compute name inside the workspace, 2-16 characters. */
  computeName: pulumi.Input<string>;
  vmSize: pulumi.Input<string>;
  vmPriority: pulumi.Input<"Dedicated" | "LowPriority">;
  minNodes: pulumi.Input<number>;
  maxNodes: pulumi.Input<number>;
  /** ISO-8601 duration, e.g. PT120S. */
  idleScaleDown: pulumi.Input<string>;
  /** mlops:network.private: the nodes join this subnet, so they reach the workspace's private endpoints. */
  subnetId?: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class TrainingCluster extends pulumi.ComponentResource {
  readonly compute: machinelearningservices.Compute;
  readonly computeName: pulumi.Output<string>;

  constructor(name: string, args: TrainingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:training:TrainingCluster", name, {}, opts);

    this.compute = new machinelearningservices.Compute(
      `${name}-amlcompute`,
      {
        resourceGroupName: args.resourceGroupName,
        workspaceName: args.workspaceName,
        computeName: args.computeName,
        location: args.location,
        identity: { type: machinelearningservices.ManagedServiceIdentityType.SystemAssigned },
        properties: {
          computeType: "AmlCompute",
          description: "Training cluster (autoscaling, managed by Pulumi)",
          properties: {
            vmSize: args.vmSize,
            vmPriority: args.vmPriority,
            osType: machinelearningservices.OsType.Linux,
            remoteLoginPortPublicAccess: machinelearningservices.RemoteLoginPortPublicAccess.Disabled,
            scaleSettings: {
              minNodeCount: args.minNodes,
              maxNodeCount: args.maxNodes,
              nodeIdleTimeBeforeScaleDown: args.idleScaleDown,
            },
            ...(args.subnetId !== undefined ? { subnet: { id: args.subnetId } } : {}),
          },
        },
        tags: args.tags,
      },
      { parent: this },
    );
    this.computeName = this.compute.name;
    this.registerOutputs({ computeName: this.computeName });
  }
}
