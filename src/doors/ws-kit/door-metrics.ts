import type { ClientErrorLog } from "../../observability/client-error-log.js";
import type { Metrics } from "../../observability/metrics.js";

/** A counter bound to its labels once: prom-client hashes a label object on every `inc` otherwise. */
interface BoundCounter {
  inc(value?: number): void;
}

interface BoundGauge {
  inc(): void;
  dec(): void;
}

interface BoundHistogram {
  observe(value: number): void;
}

/**
 * One door's share of the metrics: every series carries the door's label. Everything on the
 * per-message and per-answer paths is bound once here, so no label object is hashed per call.
 */
export class DoorMetrics {
  private readonly inByType = new Map<string, BoundCounter>();
  private readonly outByType = new Map<string, BoundCounter>();
  private readonly open: BoundGauge;
  private readonly ackLatency: BoundHistogram;
  private readonly scoringLatency: BoundHistogram;
  private readonly upgradeLatency: BoundHistogram;
  private readonly broadcastByType = new Map<string, BoundHistogram>();

  constructor(
    private readonly metrics: Metrics,
    readonly door: string,
    /** The endpoint its upgrades are counted under in http_request_duration_seconds. */
    endpoint = `ws:${door}`,
    private readonly errorLog?: ClientErrorLog,
  ) {
    this.open = metrics.connections.labels({ door });
    this.ackLatency = metrics.answerAck.child(door);
    this.scoringLatency = metrics.scoringLatency.child();
    this.upgradeLatency = metrics.httpDuration.labels({ endpoint });
  }

  connected(): void {
    this.open.inc();
    this.metrics.wsActive.inc();
    this.metrics.wsTotal.inc();
  }

  /** A connection closed; `openedMs` is `performance.now()` when it opened. */
  disconnected(openedMs: number): void {
    this.open.dec();
    this.metrics.wsActive.dec();
    this.metrics.wsDuration.observe((performance.now() - openedMs) / 1000);
  }

  /** An upgrade answered (101 or a refusal); `startedMs` is `performance.now()` when it arrived. */
  upgraded(startedMs: number, status: number): void {
    this.upgradeLatency.observe((performance.now() - startedMs) / 1000);
    if (status !== 101) this.metrics.connectionErrors.inc();
  }

  /** A socket failed (reset, protocol violation). */
  socketFailed(): void {
    this.metrics.connectionErrors.inc();
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
    this.metrics.errorSent(code);
    this.errorLog?.report(this.door, code);
  }

  /** A client behind on its frames: a frame a later one replaces was skipped, or the socket closed. */
  slowConsumer(action: "skipped" | "closed"): void {
    this.metrics.slowConsumers.inc({ door: this.door, action });
    this.metrics.droppedMsgs.inc({ door: this.door, action });
  }

  /** An answer acknowledged; `startedMs` is `performance.now()` when it arrived. */
  answerAcked(startedMs: number): void {
    const seconds = (performance.now() - startedMs) / 1000;
    this.ackLatency.observe(seconds);
    this.scoringLatency.observe(seconds);
  }

  /**
   * A phase broadcast's frames are all written; `stampMs` is the event's `at` (the room's clock,
   * wall time: on an instance that is not the room's owner this includes the hop over the bus).
   */
  broadcastWritten(type: string, stampMs: number): void {
    let h = this.broadcastByType.get(type);
    if (h === undefined) {
      h = this.metrics.broadcastLatency.labels({ door: this.door, type });
      this.broadcastByType.set(type, h);
    }
    h.observe(Math.max(0, Date.now() - stampMs) / 1000);
  }

  /** A leaderboard update delivered; `startedMs` is `performance.now()` when delivery began. */
  leaderboardDelivered(startedMs: number): void {
    this.metrics.leaderboardLatency.observe((performance.now() - startedMs) / 1000);
  }

  private bound(
    cache: Map<string, BoundCounter>,
    counter: Metrics["messagesOut"],
    type: string,
  ): BoundCounter {
    let c = cache.get(type);
    if (c === undefined) {
      c = counter.child({ door: this.door, type });
      cache.set(type, c);
    }
    return c;
  }
}
