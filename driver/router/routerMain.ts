/**
 * Entry point of the router as a background process of the local target:
 *   tsx driver/router/routerMain.ts <state-file.json>
 * Listens where the state file says (loopback only) for scoring traffic, and on a second loopback listener
 * (a free port) for the admin API. It makes the admin token itself and writes the admin listener's URL and
 * the token to `<state-file>.admin.json` (mode 0600) once both listeners are up; it never prints the token.
 * Persists weight changes back to the state file, logs every change to stdout, exits on SIGTERM.
 */
import { adminFileFor, newAdminToken, removeAdminFile, writeAdminFile } from "./routerAdminFile.js";
import { readRouterStateFile, writeRouterStateFile } from "./routerStateFile.js";
import { startWeightedRouter } from "./weightedRouter.js";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: routerMain.ts <state-file.json>\n");
  process.exit(2);
}
const state = await readRouterStateFile(file);
if (!/^127\.|^localhost$|^::1$/.test(state.host)) {
  process.stderr.write(`router: refusing to listen on ${state.host}: loopback only\n`);
  process.exit(2);
}
const adminFile = adminFileFor(file);
const token = newAdminToken();
const router = await startWeightedRouter({
  host: state.host,
  port: state.port,
  state,
  ...(state.maxRequestBytes ? { maxRequestBytes: state.maxRequestBytes } : {}),
  admin: { token, port: 0 },
  onChange: (s) => writeRouterStateFile(file, { ...state, ...s }),
});
await writeAdminFile(adminFile, { url: router.adminUrl!, token, pid: process.pid });
process.stdout.write(`router listening on ${router.url}: ${JSON.stringify(router.stats().weights)}; admin API on ${router.adminUrl} (token in ${adminFile})\n`);
const stop = (): void => {
  void Promise.all([router.close(), removeAdminFile(adminFile)]).then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
