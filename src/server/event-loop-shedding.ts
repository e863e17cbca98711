/**
 * Load shedding by event-loop lag (seed 001 §10.3: "High load → throttle new
 * connections, prioritize existing"). The event loop's delay is measured with
 * `perf_hooks.monitorEventLoopDelay`; every `sampleEveryMs` the p99 of the
 * last sample is compared with EVENT_LOOP_LAG_LIMIT_MS. While it is above,
 * new WebSocket upgrades are refused with 503 before the handshake (the
 * clients' backoff brings them back, or the load balancer sends them to
 * another instance) and /health/ready reports the instance not ready; the
 * games already running keep their connections.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { rejectUpgrade } from "../doors/ws-kit/frames.js";
import type { Clock, TimerHandle } from "../ports/clock.js";

/** Where the delay comes from: the real histogram, or a test's numbers. */
export interface LagSource {
  /** The p99 delay since the last reset, in milliseconds (0 when nothing was recorded). */
  p99Ms(): number;
  reset(): void;
  stop(): void;
}

/** `monitorEventLoopDelay` at a 10 ms resolution. */
export function eventLoopDelaySource(): LagSource {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    // The histogram is in nanoseconds; it holds no samples (NaN) until the loop has turned.
    p99Ms: () => {
      const v = h.percentile(99) / 1e6;
      return Number.isFinite(v) ? v : 0;
    },
    reset: () => h.reset(),
    stop: () => h.disable(),
  };
}

/** A source that never lags: what a server with shedding turned off (0) samples. */
export const IDLE_LAG: LagSource = {
  p99Ms: () => 0,
  reset: () => undefined,
  stop: () => undefined,
};

export interface SheddingStatus {
  shedding: boolean;
  p99Ms: number;
  limitMs: number;
}

export class EventLoopShedding {
  private timer: TimerHandle | null = null;
  private lastP99 = 0;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly source: LagSource,
    private readonly opts: { limitMs: number; sampleEveryMs?: number },
  ) {}

  /** Samples every period until stopped (a background timer: it never keeps the process up). */
  start(): this {
    if (this.opts.limitMs <= 0 || this.timer || this.stopped) return this;
    this.source.reset();
    this.schedule();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.source.stop();
  }

  /** Whether new connections are being refused right now. */
  get shedding(): boolean {
    return this.opts.limitMs > 0 && this.lastP99 > this.opts.limitMs;
  }

  /** The upgrade path's hook: refuses the upgrade with 503 when shedding, and says so. */
  refuseUpgrade(socket: Duplex): boolean {
    if (!this.shedding) return false;
    rejectUpgrade(socket, 503, "server busy (event loop lagging); try again shortly");
    return true;
  }

  status(): SheddingStatus {
    return {
      shedding: this.shedding,
      p99Ms: Math.round(this.lastP99 * 10) / 10,
      limitMs: this.opts.limitMs,
    };
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.opts.sampleEveryMs ?? 1_000;
    this.timer = this.clock.setTimer(
      this.clock.now() + every,
      () => {
        this.lastP99 = this.source.p99Ms();
        this.source.reset();
        this.schedule();
      },
      { background: true },
    );
  }
}
