/**
 * Tracing, in the quiz's own words: the engine and the doors mark where an
 * operation starts and ends (a message handled, a command applied, a group
 * commit, a command forwarded to another instance) and what it was about.
 *
 * There is no "disabled" tracer: where tracing is off, whoever would hold one
 * holds `undefined` and skips the hook with one check, so the hot path makes no
 * spans, contexts or closures at all. The OpenTelemetry implementation lives in
 * src/observability/otel-tracer.ts.
 */

/** A span's place in a trace, to start other spans under it or link them to it. Opaque. */
export interface TraceParent {
  readonly __traceParent: true;
}

export type SpanAttributeValue = string | number | boolean;

/** One operation being traced. Ended once; what is set after `end` is dropped. */
export interface TraceSpan {
  /** This span, as the parent of spans started for work it causes. */
  readonly parent: TraceParent;
  /** The trace's id (32 hex digits), for log lines. */
  readonly traceId: string;
  set(key: string, value: SpanAttributeValue): void;
  /** Marks the span failed, with why. */
  fail(message: string): void;
  end(): void;
}

export interface SpanOptions {
  /**
   * Where the span belongs: under this parent; `null` starts a new trace (work that arrives from
   * outside, or on a timer, whose context would otherwise be whatever scheduled it); omitted, under
   * the span current in this async flow (see `within`).
   */
  parent?: TraceParent | null;
  /** Other spans this one serves (a group commit links every answer it stores). */
  links?: readonly TraceParent[];
  /** `server`: work asked for by a client or another instance; `client`: a request to another instance. */
  kind?: "internal" | "server" | "client";
  attributes?: Readonly<Record<string, SpanAttributeValue>>;
}

/** Starts spans and carries the current one across async work and across instances. */
export interface Tracer {
  start(name: string, options?: SpanOptions): TraceSpan;
  /** Runs `fn` with `span` current: spans started in it (and in what it awaits) are its children. */
  within<T>(span: TraceSpan, fn: () => T): T;
  /**
   * Runs `fn` with no span current: a timer it sets or work it defers starts from no trace,
   * rather than from whatever traced work happened to arm it.
   */
  outside<T>(fn: () => T): T;
  /** The span current in this async flow, if any. */
  current(): TraceParent | undefined;
  /** `parent` as text to send to another instance (W3C `traceparent`); undefined when it has none. */
  inject(parent: TraceParent): string | undefined;
  /** A parent another instance sent with `inject`; undefined when the text is not one. */
  extract(text: string): TraceParent | undefined;
}

/** The attribute names spans carry (docs: ARCHITECTURE.md, "Observability"). */
export const TRACE_ATTRIBUTES = {
  roomId: "quizwire.room_id",
  msgType: "quizwire.msg_type",
  door: "quizwire.door",
  errorCode: "quizwire.error_code",
} as const;
