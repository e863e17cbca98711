import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A span as an OTLP receiver got it, flattened with its resource's attributes. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a trace's first span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** The resource's attributes: service.name, service.instance.id, … */
  resource: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** Start and end, in nanoseconds since the epoch. */
  startNs: bigint;
  endNs: bigint;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        attributes?: OtlpAttribute[];
        links?: Array<{ traceId: string; spanId: string }>;
        status?: { code?: number };
        startTimeUnixNano?: string | number;
        endTimeUnixNano?: string | number;
      }>;
    }>;
  }>;
}

function attributeValue(v: OtlpValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return "";
}

function attributesOf(
  list: OtlpAttribute[] | undefined,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const a of list ?? []) out[a.key] = attributeValue(a.value);
  return out;
}

/**
 * A local OTLP/HTTP traces receiver on 127.0.0.1 (what a collector does, for
 * tests): accepts the exporter's JSON posts on `/v1/traces` and keeps every
 * span. Anything else (protobuf, another path) is answered 415/404 and
 * recorded in `refused`, so a test sees the exporter speak something else.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly refused: string[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const type = req.headers["content-type"] ?? "";
        if (req.method !== "POST" || req.url !== "/v1/traces") {
          receiver.refused.push(`${req.method} ${req.url}`);
          res.writeHead(404).end();
          return;
        }
        if (!type.startsWith("application/json")) {
          receiver.refused.push(`content-type ${type}`);
          res.writeHead(415).end();
          return;
        }
        try {
          receiver.take(JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpTraces);
        } catch (err) {
          receiver.refused.push(`unreadable: ${String(err)}`);
          res.writeHead(400).end();
          return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private take(body: OtlpTraces): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? "",
            name: s.name,
            kind: s.kind ?? 0,
            attributes: attributesOf(s.attributes),
            resource,
            links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            statusCode: s.status?.code ?? 0,
            startNs: BigInt(s.startTimeUnixNano ?? 0),
            endNs: BigInt(s.endTimeUnixNano ?? 0),
          });
        }
      }
    }
  }

  /** Spans received so far that satisfy `match`. */
  find(match: (s: ReceivedSpan) => boolean): ReceivedSpan[] {
    return this.spans.filter(match);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
