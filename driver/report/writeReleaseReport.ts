/**
 * Writes a release's report as `.mlops/reports/<release-id>.md` and `.html` (atomically; rewritten at the end
 * of every release/promote so it always shows the latest state). Returns both paths.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Release } from "../core/release.js";
import type { ConfigChange } from "../profile/prodConfigChange.js";
import { renderHtml } from "./htmlReport.js";
import { renderMarkdown } from "./markdownReport.js";
import { buildReportModel } from "./reportSections.js";

export interface ReportPaths {
  markdown: string;
  html: string;
}

export function reportPaths(repoRoot: string, releaseId: string): ReportPaths {
  const dir = path.join(repoRoot, ".mlops", "reports");
  return { markdown: path.join(dir, `${releaseId}.md`), html: path.join(dir, `${releaseId}.html`) };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

export async function writeReleaseReport(repoRoot: string, release: Release, change?: ConfigChange): Promise<ReportPaths> {
  const paths = reportPaths(repoRoot, release.id);
  await mkdir(path.dirname(paths.markdown), { recursive: true });
  const model = buildReportModel(release, change);
  await writeAtomic(paths.markdown, renderMarkdown(model));
  await writeAtomic(paths.html, renderHtml(model));
  return paths;
}
