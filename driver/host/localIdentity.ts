import { hostname, userInfo } from "node:os";
import type { ApproverIdentity } from "../core/release.js";

/** On one machine nothing authenticates an approver: the record carries the OS user and host, and says so. */
export function localIdentity(): ApproverIdentity {
  let osUser: string;
  try {
    osUser = userInfo().username;
  } catch {
    osUser = process.env.USER ?? process.env.LOGNAME ?? "unknown";
  }
  return { authenticated: false, source: "local", osUser, host: hostname() };
}
