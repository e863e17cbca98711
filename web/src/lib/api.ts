/**
 * The REST API as the web app calls it. Every failure becomes an ApiError
 * with the server's stable `code` and `reason` (docs/errors.md), so screens
 * turn it into words with errorText().
 */
import type { Issue } from "./quiz-model.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason: string | undefined,
    readonly issues: Issue[],
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Whether the server wants admin credentials for this call. */
  get needsAdmin(): boolean {
    return this.code === "UNAUTHORIZED" || this.reason === "not_admin";
  }
}

export interface ApiOptions {
  method?: string;
  body?: unknown;
  /** Sent as the body with this content type instead of JSON (CSV imports, picture files). */
  rawBody?: { text: string | Blob; contentType: string };
  /** `Authorization: Bearer …` (the admin token). */
  token?: string | null;
  fetch?: typeof fetch;
}

/** The error an error response stands for (any body: the server's format, or garbage from a proxy). */
export function apiErrorOf(status: number, body: unknown): ApiError {
  const o = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof o.code === "string" ? o.code : status >= 500 ? "UNAVAILABLE" : "INTERNAL";
  const issues = Array.isArray(o.issues)
    ? o.issues.filter(
        (i): i is Issue =>
          typeof i === "object" &&
          i !== null &&
          typeof (i as Issue).path === "string" &&
          typeof (i as Issue).msg === "string",
      )
    : [];
  return new ApiError(
    status,
    code,
    typeof o.message === "string" ? o.message : `HTTP ${status}`,
    typeof o.reason === "string" ? o.reason : undefined,
    issues,
    typeof o.retry_after_ms === "number" ? o.retry_after_ms : undefined,
  );
}

/** Calls the API; resolves with the parsed JSON (null for 204), rejects with ApiError or a network TypeError. */
export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  let body: string | Blob | undefined;
  if (opts.rawBody) {
    headers["content-type"] = opts.rawBody.contentType;
    body = opts.rawBody.text;
  } else if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const doFetch = opts.fetch ?? fetch;
  const res = await doFetch(path, {
    method: opts.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    ...(body !== undefined && { body }),
  });
  if (res.status === 204) return null as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!res.ok) throw apiErrorOf(res.status, parsed);
  return parsed as T;
}
