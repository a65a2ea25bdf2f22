/**
 * A self-signed certificate for 127.0.0.1, made with openssl once per test process and added to this
 * process's default CAs, so the real Azure SDK clients (whose bearer-token policy refuses plain http) and
 * fetch talk TLS to the loopback fakes with no test-only switch in the product code.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";

let cached: { key: string; cert: string } | undefined;

/** A fresh self-signed certificate (openssl) for `subject`, valid for 127.0.0.1, with its key, as PEM text. */
export function selfSignedCert(subject: string, days: number): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "mlops-tls-"));
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      String(days),
      "-subj",
      subject,
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  const pem = { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
  rmSync(dir, { recursive: true, force: true });
  return pem;
}

export function loopbackCert(): { key: string; cert: string } {
  if (cached) return cached;
  cached = selfSignedCert("/CN=127.0.0.1", 2);
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), cached.cert]);
  return cached;
}
