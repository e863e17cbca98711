import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Link,
  ROOT_CONTEXT,
  type Tracer as SdkTracer,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type {
  SpanAttributeValue,
  SpanOptions,
  TraceParent,
  Tracer,
  TraceSpan,
} from "../ports/tracing.js";

export interface OtelTracerOptions {
  /** Where spans go: the OTLP/HTTP traces URL (`…/v1/traces`). */
  url: string;
  serviceName: string;
  version: string;
  /** This instance (`service.instance.id`), so spans of one trace tell which instance ran them. */
  instanceId: string;
  /**
   * The share of new traces recorded (parent-based: a trace another instance started keeps its
   * decision). Null leaves sampling to the SDK's own OTEL_TRACES_SAMPLER variables.
   */
  sampleRatio: number | null;
  /** Replaces the OTLP exporter (tests). */
  exporter?: SpanExporter;
}

const KINDS = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
} as const;

/** How many spans one span links to at most (a group commit of 1,000 answers links the first 128). */
const MAX_LINKS = 128;

class OtelSpan implements TraceSpan {
  constructor(
    readonly span: Span,
    readonly context: Context,
  ) {}

  get parent(): TraceParent {
    return this.context as unknown as TraceParent;
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  set(key: string, value: SpanAttributeValue): void {
    this.span.setAttribute(key, value);
  }

  fail(message: string): void {
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
  }

  end(): void {
    this.span.end();
  }
}

/**
 * The Tracer port on the OpenTelemetry SDK: spans batched and exported over
 * OTLP/HTTP (JSON). The current span follows async work through an
 * AsyncLocalStorage of this tracer's own — nothing is registered globally, so
 * several servers in one process (tests) keep their traces apart, and a server
 * without tracing pays for no context propagation at all.
 */
export class OtelTracer implements Tracer {
  private readonly current$ = new AsyncLocalStorage<Context>();
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly tracer: SdkTracer;

  private constructor(private readonly provider: NodeTracerProvider) {
    this.tracer = provider.getTracer("quizwire");
  }

  static open(opts: OtelTracerOptions): OtelTracer {
    const exporter = opts.exporter ?? new OTLPTraceExporter({ url: opts.url });
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: opts.serviceName,
        [ATTR_SERVICE_VERSION]: opts.version,
        "service.instance.id": opts.instanceId,
      }),
      ...(opts.sampleRatio === null
        ? {}
        : {
            sampler: new ParentBasedSampler({
              root: new TraceIdRatioBasedSampler(opts.sampleRatio),
            }),
          }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    return new OtelTracer(provider);
  }

  start(name: string, options: SpanOptions = {}): TraceSpan {
    const parent =
      options.parent === null
        ? ROOT_CONTEXT
        : options.parent !== undefined
          ? asContext(options.parent)
          : (this.current$.getStore() ?? ROOT_CONTEXT);
    const links: Link[] | undefined = options.links?.slice(0, MAX_LINKS).flatMap((l) => {
      const span = trace.getSpan(asContext(l));
      return span ? [{ context: span.spanContext() }] : [];
    });
    const span = this.tracer.startSpan(
      name,
      {
        kind: KINDS[options.kind ?? "internal"],
        ...(options.attributes ? { attributes: options.attributes } : {}),
        ...(links && links.length > 0 ? { links } : {}),
      },
      parent,
    );
    return new OtelSpan(span, trace.setSpan(parent, span));
  }

  within<T>(span: TraceSpan, fn: () => T): T {
    return this.current$.run((span as OtelSpan).context, fn);
  }

  outside<T>(fn: () => T): T {
    return this.current$.exit(fn);
  }

  current(): TraceParent | undefined {
    const ctx = this.current$.getStore();
    return ctx !== undefined && trace.getSpan(ctx) !== undefined
      ? (ctx as unknown as TraceParent)
      : undefined;
  }

  /** The trace id of the span current in this async flow (log lines carry it). */
  currentTraceId(): string | undefined {
    const ctx = this.current$.getStore();
    return ctx === undefined ? undefined : trace.getSpan(ctx)?.spanContext().traceId;
  }

  inject(parent: TraceParent): string | undefined {
    const carrier: Record<string, string> = {};
    this.propagator.inject(asContext(parent), carrier, defaultTextMapSetter);
    return carrier.traceparent;
  }

  extract(text: string): TraceParent | undefined {
    const ctx = this.propagator.extract(ROOT_CONTEXT, { traceparent: text }, defaultTextMapGetter);
    return trace.getSpan(ctx) === undefined ? undefined : (ctx as unknown as TraceParent);
  }

  /** Exports what is still buffered (graceful shutdown, tests). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Exports what is buffered and stops. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

function asContext(parent: TraceParent): Context {
  return parent as unknown as Context;
}
