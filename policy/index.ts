/**
 * Policy pack entry point: only constructs the pack (the constructor starts the analyzer server,
 * so tests import ./policies.js instead). Run with `pulumi preview --stack int --policy-pack policy`.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies.js";

new PolicyPack("mlops-azure", { policies });
