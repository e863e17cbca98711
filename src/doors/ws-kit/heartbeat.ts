/** What the heartbeat needs of a socket: `ws`'s WebSocket has both. */
export interface Pingable {
  ping(): void;
  on(event: "pong", listener: () => void): unknown;
}

/** Runs `tick` every `ms` until stopped; the default is an unref'd `setInterval`. */
export type Ticker = (ms: number, tick: () => void) => { stop(): void };

const intervalTicker: Ticker = (ms, tick) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return { stop: () => clearInterval(timer) };
};

/** Most ticks an interval is split into, and the shortest tick (tests run with short intervals). */
const MAX_TICKS = 200;
const MIN_TICK_MS = 10;

/**
 * Protocol-level pings: each socket is pinged once every interval; one that has
 * not answered its previous ping by then is handed to `onDead` (the door closes it).
 *
 * The sockets are spread over the ticks of the interval (one tick in 200 each,
 * in turn: every 150 ms of a 30 s interval), so each tick pings a two-hundredth
 * of them. Pinging 10,000 sockets in one callback held the event loop for about
 * 100 ms every 30 s, and every answer that arrived meanwhile waited for it; in
 * twentieths (500 sockets a tick, every 1.5 s), a tick still took 7–26 ms in a
 * 10,000-player game's CPU profile.
 */
export class Heartbeat<S extends Pingable = Pingable> {
  /** Per socket: whether it answered since its last ping, and the tick it is pinged on. */
  private readonly sockets = new Map<S, { alive: boolean; slot: number }>();
  private readonly slots: Array<Set<S>>;
  private readonly ticker: { stop(): void };
  private nextSlot = 0;
  private tick = 0;

  constructor(
    readonly intervalMs: number,
    private readonly onDead: (ws: S) => void,
    every: Ticker = intervalTicker,
  ) {
    const ticks = Math.max(1, Math.min(MAX_TICKS, Math.floor(intervalMs / MIN_TICK_MS)));
    this.slots = Array.from({ length: ticks }, () => new Set<S>());
    this.ticker = every(intervalMs / ticks, () => this.beat());
  }

  add(ws: S): void {
    const slot = this.nextSlot;
    this.nextSlot = (slot + 1) % this.slots.length;
    this.sockets.set(ws, { alive: true, slot });
    this.slots[slot]?.add(ws);
    ws.on("pong", () => {
      const s = this.sockets.get(ws);
      if (s !== undefined) s.alive = true;
    });
  }

  remove(ws: S): void {
    const s = this.sockets.get(ws);
    if (s === undefined) return;
    this.sockets.delete(ws);
    this.slots[s.slot]?.delete(ws);
  }

  stop(): void {
    this.ticker.stop();
  }

  private beat(): void {
    const slot = this.slots[this.tick] as Set<S>;
    this.tick = (this.tick + 1) % this.slots.length;
    for (const ws of slot) {
      const s = this.sockets.get(ws);
      if (s === undefined) continue;
      if (!s.alive) {
        this.remove(ws);
        this.onDead(ws);
        continue;
      }
      s.alive = false;
      ws.ping();
    }
  }
}
