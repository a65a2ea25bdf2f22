/** The run tags that make a training reusable: the source fingerprint, the model's sha256, the metrics. */
import type { SourceFingerprint } from "../../core/release.js";

export const TAG = {
  codeDigest: "mlops.code_digest",
  dataDigest: "mlops.data_digest",
  envDigest: "mlops.env_digest",
  gitCommit: "mlops.git_commit",
  gitDirty: "mlops.git_dirty",
  modelSha256: "mlops.model_sha256",
  metrics: "mlops.metrics",
  status: "mlops.status",
} as const;

/** MLflow search filter for FINISHED runs trained from exactly this fingerprint. */
export function reusableRunFilter(fp: SourceFingerprint): string {
  const q = (v: string) => `'${v.replace(/'/g, "")}'`;
  return [
    "attributes.status = 'FINISHED'",
    `tags.\`${TAG.codeDigest}\` = ${q(fp.codeDigest)}`,
    `tags.\`${TAG.dataDigest}\` = ${q(fp.dataDigest)}`,
    `tags.\`${TAG.envDigest}\` = ${q(fp.envDigest)}`,
  ].join(" and ");
}

/** Tags set on a run after it trained; the model sha tag goes last, so a half-tagged run is never reused. */
export function runTags(fp: SourceFingerprint, modelSha256: string, metrics: Record<string, number>): [string, string][] {
  return [
    [TAG.codeDigest, fp.codeDigest],
    [TAG.dataDigest, fp.dataDigest],
    [TAG.envDigest, fp.envDigest],
    [TAG.gitCommit, fp.gitCommit],
    [TAG.gitDirty, String(fp.gitDirty)],
    [TAG.metrics, JSON.stringify(metrics)],
    [TAG.modelSha256, modelSha256],
  ];
}
