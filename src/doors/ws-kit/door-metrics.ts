import type { Metrics } from "../../observability/metrics.js";

/** A door's view of the metrics: every count carries the door's label. */
export class DoorMetrics {
  constructor(
    private readonly metrics: Metrics,
    readonly door: string,
  ) {}

  connected(): void {
    this.metrics.connections.inc({ door: this.door });
  }

  disconnected(): void {
    this.metrics.connections.dec({ door: this.door });
  }

  received(type: string): void {
    this.metrics.messagesIn.inc({ door: this.door, type });
  }

  /** Frames sent; a broadcast counts once per recipient. */
  sent(type: string, count = 1): void {
    this.metrics.messagesOut.inc({ door: this.door, type }, count);
  }

  error(code: string): void {
    this.metrics.errors.inc({ door: this.door, code });
  }

  /** An answer acknowledged; `startedMs` is `performance.now()` when it arrived. */
  answerAcked(startedMs: number): void {
    this.metrics.answerAck.observe({ door: this.door }, (performance.now() - startedMs) / 1000);
  }
}
