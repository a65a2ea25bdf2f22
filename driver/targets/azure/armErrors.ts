/** Reading the Azure SDK's RestError without depending on its class identity; messages never include headers. */
export interface RestErrorLike {
  statusCode?: number;
  code?: string;
  message: string;
}

export const statusOf = (e: unknown): number | undefined => (e as RestErrorLike)?.statusCode;
export const isNotFound = (e: unknown): boolean => statusOf(e) === 404;
export const isConflict = (e: unknown): boolean => statusOf(e) === 409 || statusOf(e) === 412;

/** One line: status, ARM error code, the first sentence of the message. */
export function restSummary(e: unknown): string {
  const r = e as RestErrorLike;
  const msg = (r?.message ?? String(e)).split("\n")[0]!.slice(0, 200);
  return [r?.statusCode ? `HTTP ${r.statusCode}` : "", r?.code ?? "", msg].filter(Boolean).join(" ");
}
