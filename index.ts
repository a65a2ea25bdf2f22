/**
 * Pulumi entry point (package.json "main"). Thin by design: program.ts reads and validates the
 * stack config, composes the components and returns the outputs; this module exports them.
 */
import { buildStack } from "./program.js";

const stack = buildStack().outputs;

export const resourceGroupName = stack.resourceGroupName;
export const workspaceName = stack.workspaceName;
export const workspaceId = stack.workspaceId;
export const mlflowTrackingUri = stack.mlflowTrackingUri;
export const trainingComputeName = stack.trainingComputeName;
export const inferenceComputeName = stack.inferenceComputeName;
export const aksClusterName = stack.aksClusterName;
export const endpointName = stack.endpointName;
export const scoringUri = stack.scoringUri;
export const servedModel = stack.servedModel;
export const traffic = stack.traffic;
export const trafficConverged = stack.trafficConverged;
export const servingState = stack.servingState;
export const codeVersion = stack.codeVersion;
export const batchEndpointName = stack.batchEndpointName;
export const batchModelVersion = stack.batchModelVersion;
