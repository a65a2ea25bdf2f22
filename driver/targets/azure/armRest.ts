/**
 * Plain ARM requests sent through the SDK client's own pipeline (bearer token for the ARM scope, retries,
 * throttling): the doctor's GETs of what @azure/arm-machinelearning 2.1.1 has no call for (subscriptions, resource
 * providers, Compute usages and SKUs, role assignments, cluster extensions) and the job PUT that bypasses the SDK's
 * serializer (jobSubmit.ts). Each caller names the api-version Microsoft documents for its operation.
 */
import { createPipelineRequest } from "@azure/core-rest-pipeline";

/** The part of the SDK's ServiceClient used here (AzureMachineLearningWorkspaces is one). */
export interface PipelineSender {
  sendRequest(request: ReturnType<typeof createPipelineRequest>): Promise<{ status: number; bodyAsText?: string | null }>;
}

export class ArmCallError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = "ArmCallError";
  }
}

export interface ArmAnswer<T> {
  status: number;
  body?: T;
  error?: { code?: string; message?: string };
}

export class ArmRest {
  constructor(
    private readonly client: PipelineSender,
    private readonly endpoint: string,
  ) {}

  private url(pathOrUrl: string, apiVersion: string, query: Record<string, string>): string {
    if (/^https:\/\//i.test(pathOrUrl)) return pathOrUrl; // a nextLink carries its own query
    const u = new URL(`${this.endpoint.replace(/\/+$/, "")}${pathOrUrl}`);
    u.searchParams.set("api-version", apiVersion);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u.toString();
  }

  /** One GET; the status and body (or ARM's error object) as they came. */
  get<T>(path: string, apiVersion: string, query: Record<string, string> = {}): Promise<ArmAnswer<T>> {
    return this.send<T>("GET", path, apiVersion, query);
  }

  /** One request with an optional JSON body; the status and body (or ARM's error object) as they came. */
  async send<T>(method: "GET" | "PUT", path: string, apiVersion: string, query: Record<string, string> = {}, body?: unknown): Promise<ArmAnswer<T>> {
    const request = createPipelineRequest({ url: this.url(path, apiVersion, query), method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (body !== undefined) request.headers.set("content-type", "application/json; charset=utf-8");
    request.headers.set("accept", "application/json");
    const res = await this.client.sendRequest(request);
    let parsed: unknown;
    try {
      parsed = res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status >= 200 && res.status < 300) return { status: res.status, body: parsed as T };
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    return { status: res.status, ...(error ? { error } : {}) };
  }

  /** A GET that must succeed: throws ArmCallError (status, ARM code, first line of the message). */
  async getOk<T>(path: string, apiVersion: string, query: Record<string, string> = {}): Promise<T> {
    const a = await this.get<T>(path, apiVersion, query);
    if (a.status >= 200 && a.status < 300 && a.body !== undefined) return a.body;
    throw armError(`GET ${path.split("?")[0]}`, a);
  }

  /** A list operation, following nextLink. */
  async list<T>(path: string, apiVersion: string, query: Record<string, string> = {}): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = path;
    let first = true;
    while (next) {
      const page: { value?: T[]; nextLink?: string } = await this.getOk(next, apiVersion, first ? query : {});
      out.push(...(page.value ?? []));
      next = page.nextLink || undefined;
      first = false;
    }
    return out;
  }
}

export function armError(what: string, a: ArmAnswer<unknown>): ArmCallError {
  const msg = (a.error?.message ?? "").split("\n")[0]!.slice(0, 200);
  return new ArmCallError(`${what}: HTTP ${a.status}${a.error?.code ? ` ${a.error.code}` : ""}${msg ? ` ${msg}` : ""}`, a.status, a.error?.code);
}
