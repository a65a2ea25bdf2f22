/**
 * The azure checks, in the order they run (later ones use what earlier ones found). Before the first `up` the
 * checks of deployed resources report nothing for that stack; the stack check says it is not deployed yet.
 * To add a check, add it here.
 */
import type { Check } from "../checkResult.js";
import type { AzureDoctorContext } from "./azureDoctorContext.js";
import { computeCheck, endpointCheck, extensionCheck, instanceTypesCheck, trainingCapacityCheck } from "./deployedChecks.js";
import { credentialCheck, subscriptionCheck } from "./identityChecks.js";
import { providersCheck } from "./providerCheck.js";
import { backendCheck, pulumiCliCheck } from "./pulumiChecks.js";
import { quotaCheck } from "./quotaCheck.js";
import { rolesCheck } from "./roleCheck.js";
import { scoringTlsCheck } from "./scoringTlsCheck.js";
import { stackConfigCheck, stackOutputsCheck } from "./stackChecks.js";

export const AZURE_CHECKS: Check<AzureDoctorContext>[] = [
  stackConfigCheck,
  credentialCheck,
  subscriptionCheck,
  pulumiCliCheck,
  backendCheck,
  stackOutputsCheck,
  providersCheck,
  quotaCheck,
  rolesCheck,
  extensionCheck,
  computeCheck,
  instanceTypesCheck,
  trainingCapacityCheck,
  endpointCheck,
  scoringTlsCheck,
];
