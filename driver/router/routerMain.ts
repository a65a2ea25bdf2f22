/**
 * Entry point of the router as a background process of the local target:
 *   tsx driver/router/routerMain.ts <state-file.json>
 * Listens where the state file says (loopback only), persists weight changes back to it, exits on SIGTERM.
 */
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
const router = await startWeightedRouter({
  host: state.host,
  port: state.port,
  state,
  onChange: (s) => writeRouterStateFile(file, { ...state, ...s }),
});
process.stdout.write(`router listening on ${router.url}: ${JSON.stringify(router.stats().weights)}\n`);
const stop = (): void => {
  void router.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
