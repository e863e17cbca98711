/**
 * The one REST error format and the one place that produces it. Every refusal
 * — a DomainError from a room, a quiz that does not parse, Fastify's own
 * validation and routing errors, a bug — leaves as
 * `{ code, message, reason?, issues?, retry_after_ms? }` with the HTTP status
 * `ERROR_CODES[code].status`. docs/errors.md documents every code.
 */
import { STATUS_CODES as HTTP_STATUS_TEXT } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import Type from "typebox";
import type { QuizIssue } from "../../content/quiz-check.js";
import { type DomainError, ERROR_CODES, type ErrorCode, type Result } from "../../domain/errors.js";

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** One problem with a request body or file: where it is and what is wrong. */
export const IssueView = Type.Object({
  /** Dotted path inside the body ("questions[2].options"), "line N" for CSV, "" for the whole. */
  path: Type.String(),
  msg: Type.String(),
});

/** The body of every REST error response. */
export const ErrorBody = Type.Object(
  {
    code: Type.Enum(CODES),
    message: Type.String(),
    /** Machine-readable detail for UIs, e.g. "no_quiz", "quiz_exists", "room_locked". */
    reason: Type.Optional(Type.String()),
    /** VALIDATION only: every problem found, not just the first. */
    issues: Type.Optional(Type.Array(IssueView)),
    /** RATE_LIMIT only: when to try again (also sent as the Retry-After header, in seconds). */
    retry_after_ms: Type.Optional(Type.Integer()),
  },
  { description: "Every REST error. The HTTP status follows from `code` (see docs/errors.md)." },
);
export type ErrorBody = Type.Static<typeof ErrorBody>;

/** A refusal a route throws; the error handler turns it into the error body. */
export class RestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly reason?: string,
    readonly issues?: readonly QuizIssue[],
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "RestError";
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  static fromDomain(e: DomainError): RestError {
    return new RestError(e.code, e.msg, e.reason);
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.reason !== undefined) body.reason = this.reason;
    if (this.issues !== undefined) body.issues = this.issues.map((i) => ({ ...i }));
    if (this.retryAfterMs !== undefined) body.retry_after_ms = this.retryAfterMs;
    return body;
  }
}

/** The value of a successful result; a refusal is thrown as a RestError. */
export function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw RestError.fromDomain(r.error);
  return r.value;
}

/** A 400 VALIDATION carrying every issue, the first one (and how many more) in the message. */
export function invalid(what: string, issues: readonly QuizIssue[], reason: string): RestError {
  const first = issues[0];
  const head = first ? (first.path ? `${first.path} ${first.msg}` : first.msg) : "is invalid";
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issues)` : "";
  return new RestError("VALIDATION", `${what}: ${head}${more}`, reason, issues);
}

/** Error response schemas for a route's OpenAPI entry, keyed by the statuses of `codes`. */
export function errorResponses(...codes: ErrorCode[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const c of [...codes, "INTERNAL" as const]) out[ERROR_CODES[c].status] = ErrorBody;
  return out;
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** "/settings/max_participants" → "settings.max_participants"; "/questions/0" → "questions[0]". */
function pointerToPath(pointer: string): string {
  let path = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(seg)) path += `[${seg}]`;
    else path += path === "" ? seg : `.${seg}`;
  }
  return path;
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

/** Schema errors (TypeBox's or ajv's shape) as one readable issue per field. */
export function schemaIssues(errors: readonly SchemaError[]): QuizIssue[] {
  const issues: QuizIssue[] = [];
  const seen = new Set<string>();
  const add = (path: string, msg: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    issues.push({ path, msg });
  };
  for (const e of errors) {
    const path = pointerToPath(e.instancePath);
    const p = e.params ?? {};
    if (e.keyword === "required" && Array.isArray(p.requiredProperties)) {
      for (const prop of p.requiredProperties) add(join(path, String(prop)), "is required");
    } else if (e.keyword === "required" && typeof p.missingProperty === "string") {
      add(join(path, p.missingProperty), "is required");
    } else if (e.keyword === "additionalProperties" && Array.isArray(p.additionalProperties)) {
      for (const prop of p.additionalProperties) add(join(path, String(prop)), "is not allowed");
    } else if (e.keyword === "boolean" && e.schemaPath?.endsWith("/additionalProperties")) {
      add(path, "is not allowed");
    } else if (e.keyword === "enum" && Array.isArray(p.allowedValues)) {
      add(path, `must be one of: ${p.allowedValues.join(", ")}`);
    } else {
      add(path, e.message ?? "is invalid");
    }
  }
  return issues;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  429: "RATE_LIMIT",
  503: "UNAVAILABLE",
};

/** The longest path parameter the router takes; longer ones are refused `param_too_long`. */
export const MAX_PARAM_LENGTH = 1_000;
/** How much of a request's path an error message repeats (the rest is cut, never echoed). */
const ECHO_MAX = 80;

/** Stable reasons for Fastify's own errors (its codes are not part of our contract). */
const FASTIFY_REASONS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "bad_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "empty_body",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_BODY_TOO_LARGE: "body_too_large",
  FST_ERR_BAD_URL: "bad_url",
  FST_ERR_MAX_PARAM_LENGTH: "param_too_long",
};

/** Our own words for Fastify errors whose message repeats the request (the URL) back. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: "the URL is not valid (a bad percent-encoding)",
  FST_ERR_MAX_PARAM_LENGTH: `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`,
};

/** A request path as an error message may show it: cut short, so a long URL is never echoed whole. */
export function shownPath(path: string): string {
  return path.length <= ECHO_MAX ? path : `${path.slice(0, ECHO_MAX)}…`;
}

/** Any error a route or Fastify raised, as a RestError. Unknown errors become INTERNAL. */
export function toRestError(err: unknown): RestError {
  if (err instanceof RestError) return err;
  const fe = err as Partial<FastifyError> & { validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const issues = schemaIssues(fe.validation as SchemaError[]);
    const part = fe.validationContext ?? "request";
    return invalid(`invalid ${part}`, issues, "bad_request");
  }
  const status = typeof fe.statusCode === "number" ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, empty body, unsupported media type, body too large).
    const code = STATUS_CODES[status] ?? "VALIDATION";
    const known = typeof fe.code === "string" ? fe.code : "";
    const reason = FASTIFY_REASONS[known] ?? "bad_request";
    const message = FASTIFY_MESSAGES[known] ?? (fe.message || "bad request").slice(0, 200);
    return new RestError(code, message, reason);
  }
  if (status === 503) return new RestError("UNAVAILABLE", "temporarily unavailable; please retry");
  return new RestError("INTERNAL", "internal error", "internal");
}

/** Sends `err` in the one error format, with its status (and Retry-After for RATE_LIMIT). */
export function sendError(reply: FastifyReply, err: RestError): FastifyReply {
  if (err.retryAfterMs !== undefined) {
    void reply.header("retry-after", String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
  }
  return reply.code(err.status).type("application/json; charset=utf-8").send(err.toBody());
}

/**
 * Installs the error and not-found handlers on `app` (the root instance, so
 * every route, REST or not, answers errors in this format). Stack traces never
 * leave the server; a 500 is logged with its cause.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const rest = toRestError(err);
    if (rest.code === "INTERNAL") req.log.error({ err, url: req.url }, "request failed");
    return sendError(reply, rest);
  });
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split("?")[0] ?? req.url;
    return sendError(
      reply,
      new RestError("NOT_FOUND", `no route ${req.method} ${shownPath(path)}`, "no_route"),
    );
  });
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route or hook runs (a URL that
 * does not decode, a path parameter over MAX_PARAM_LENGTH), in the one error format.
 */
export function frameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, toRestError(err));
}

/** Node's reasons for an HTTP request it could not even parse, as our stable reasons. */
function clientErrorOf(err: NodeJS.ErrnoException): RestError {
  if (err.code === "HPE_HEADER_OVERFLOW") {
    return new RestError("VALIDATION", "the request's headers are too large", "headers_too_large");
  }
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return new RestError("VALIDATION", "the request did not arrive in time", "request_timeout");
  }
  return new RestError("VALIDATION", "not a valid HTTP request", "bad_http");
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refused (malformed, headers too
 * large, too slow) is answered in the one error format, then the connection is closed, as Node
 * and Fastify do by default.
 */
export function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  if (socket.writable) {
    const rest = clientErrorOf(err);
    const body = JSON.stringify(rest.toBody());
    socket.write(
      `HTTP/1.1 ${rest.status} ${HTTP_STATUS_TEXT[rest.status] ?? ""}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
