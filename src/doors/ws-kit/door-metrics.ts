import type { ClientErrorLog } from "../../observability/client-error-log.js";
import type { Metrics } from "../../observability/metrics.js";

/** A counter bound to its labels once: prom-client hashes a label object on every `inc` otherwise. */
interface BoundCounter {
  inc(value?: number): void;
}

/** One door's share of the metrics: every series carries the door's label. */
export class DoorMetrics {
  private readonly inByType = new Map<string, BoundCounter>();
  private readonly outByType = new Map<string, BoundCounter>();

  constructor(
    private readonly metrics: Metrics,
    readonly door: string,
    private readonly errorLog?: ClientErrorLog,
  ) {}

  connected(): void {
    this.metrics.connections.inc({ door: this.door });
  }

  disconnected(): void {
    this.metrics.connections.dec({ door: this.door });
  }

  received(type: string): void {
    this.bound(this.inByType, this.metrics.messagesIn, type).inc();
  }

  /** Frames sent; a broadcast counts once per recipient. */
  sent(type: string, count = 1): void {
    this.bound(this.outByType, this.metrics.messagesOut, type).inc(count);
  }

  /** An error sent to a client: counted, and logged (WARN) at a bounded pace per code. */
  error(code: string): void {
    this.metrics.errors.inc({ door: this.door, code });
    this.errorLog?.report(this.door, code);
  }

  /** A client behind on its frames: a frame a later one replaces was skipped, or the socket closed. */
  slowConsumer(action: "skipped" | "closed"): void {
    this.metrics.slowConsumers.inc({ door: this.door, action });
  }

  /** An answer acknowledged; `startedMs` is `performance.now()` when it arrived. */
  answerAcked(startedMs: number): void {
    this.metrics.answerAck.observe({ door: this.door }, (performance.now() - startedMs) / 1000);
  }

  private bound(
    cache: Map<string, BoundCounter>,
    counter: Metrics["messagesOut"],
    type: string,
  ): BoundCounter {
    let c = cache.get(type);
    if (c === undefined) {
      c = counter.labels({ door: this.door, type });
      cache.set(type, c);
    }
    return c;
  }
}
