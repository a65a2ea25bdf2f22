/**
 * The scoring URI answers over TLS: in PROD the `scoringUri` output must be https (MS Learn, "Deploy Azure Machine
 * Learning extension on AKS": allowInsecureConnections/HTTP is for development and test only; the endpoint key
 * would cross a public load balancer in clear text), and a TLS handshake with certificate and host-name
 * verification must succeed. Nothing is sent over the connection: no request, no key. INT over http is a warning.
 */
import tls from "node:tls";
import { isIP } from "node:net";
import type { CheckResult } from "../checkResult.js";
import { fail, ok, warn } from "../checkResult.js";
import { stackCheck, str, type AzureDoctorContext } from "./azureDoctorContext.js";
import type { Check } from "../checkResult.js";

const HANDSHAKE_TIMEOUT_MS = 10_000;
const CERT_WARN_DAYS = 14;

export function tlsHandshake(host: string, port: number): Promise<{ validTo: Date; subject: string } | { error: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: true, timeout: HANDSHAKE_TIMEOUT_MS });
    const done = (v: { validTo: Date; subject: string } | { error: string }): void => {
      socket.destroy();
      resolve(v);
    };
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      done({ validTo: new Date(cert.valid_to), subject: String(cert.subject?.CN ?? host) });
    });
    socket.once("timeout", () => done({ error: `no TLS handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s` }));
    socket.once("error", (e: NodeJS.ErrnoException) => done({ error: `${e.code ?? "error"}: ${e.message.split("\n")[0]}` }));
  });
}

export const scoringTlsCheck: Check<AzureDoctorContext> = {
  name: "scoring-tls",
  async run(ctx) {
    const out: CheckResult[] = [];
    for (const stack of ctx.stacks) {
      const d = ctx.deployed.get(stack);
      if (!d) continue;
      const name = stackCheck("scoring-tls", stack);
      const prod = ctx.configs.get(stack)?.isProduction ?? stack === "prod";
      const uri = str(d.outputs.scoringUri);
      if (!uri) {
        out.push(fail(name, "no scoringUri output", `run 'pulumi up --stack ${stack}'`));
        continue;
      }
      const u = new URL(uri);
      if (u.protocol !== "https:") {
        out.push(
          prod
            ? fail(
                name,
                `${u.origin} serves over ${u.protocol.replace(":", "")}: the endpoint key would cross the network in clear text`,
                `give PROD TLS (sslCname + certificate on the Azure ML extension, docs/azure-target.md) and 'pulumi up --stack ${stack}'`,
              )
            : warn(name, `${u.origin} serves over http (allowInsecureConnections): development/test only`, ""),
        );
        continue;
      }
      const r = await tlsHandshake(u.hostname, Number(u.port || 443));
      if ("error" in r) {
        out.push(
          fail(
            name,
            `${u.origin}: TLS handshake failed (${r.error})`,
            "check the certificate on the inference router (sslSecret/protected settings) and that its name matches the scoring host",
          ),
        );
        continue;
      }
      const days = Math.floor((r.validTo.getTime() - ctx.deps.now().getTime()) / 86_400_000);
      const what = `${u.origin}: TLS ok, certificate ${r.subject} valid until ${r.validTo.toISOString().slice(0, 10)} (no request sent)`;
      out.push(
        days < CERT_WARN_DAYS
          ? warn(name, `${what}; expires in ${days} days`, "renew the certificate and update the extension's TLS settings")
          : ok(name, what),
      );
    }
    return out;
  },
};
