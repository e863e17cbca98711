import { describe, expect, it } from "vitest";
import { Heartbeat, type Pingable, type Ticker } from "../../src/doors/ws-kit/heartbeat.js";

/** A socket that counts its pings and answers them when told to. */
class FakeSocket implements Pingable {
  pings = 0;
  private pong: (() => void) | undefined;

  ping(): void {
    this.pings += 1;
  }

  on(_event: "pong", listener: () => void): void {
    this.pong = listener;
  }

  answer(): void {
    this.pong?.();
  }
}

/** A ticker driven by hand: `tick()` runs one tick of the heartbeat. */
function manualTicker(): { every: Ticker; tickMs: () => number; tick: () => void } {
  let run: (() => void) | undefined;
  let ms = 0;
  return {
    every: (tickMs, fn) => {
      ms = tickMs;
      run = fn;
      return { stop: () => (run = undefined) };
    },
    tickMs: () => ms,
    tick: () => run?.(),
  };
}

describe("Heartbeat: every socket pinged once per interval, a two-hundredth of them each tick", () => {
  it("spreads 1,000 sockets over 200 ticks of the interval and pings each once per interval", () => {
    const t = manualTicker();
    const hb = new Heartbeat<FakeSocket>(30_000, () => {}, t.every);
    expect(t.tickMs()).toBe(150);
    const sockets = Array.from({ length: 1_000 }, () => new FakeSocket());
    for (const s of sockets) hb.add(s);

    const pinged: number[] = [];
    for (let i = 0; i < 200; i++) {
      const before = sockets.reduce((n, s) => n + s.pings, 0);
      t.tick();
      pinged.push(sockets.reduce((n, s) => n + s.pings, 0) - before);
      for (const s of sockets) s.answer();
    }
    expect(pinged).toEqual(Array(200).fill(5));
    expect(sockets.every((s) => s.pings === 1)).toBe(true);
  });

  it("a socket that has not answered its ping by its next turn is handed to onDead, once", () => {
    const t = manualTicker();
    const dead: FakeSocket[] = [];
    const hb = new Heartbeat<FakeSocket>(200, (s) => dead.push(s), t.every);
    const ticks = 200 / t.tickMs();
    const quiet = new FakeSocket();
    const lively = new FakeSocket();
    hb.add(quiet);
    hb.add(lively);
    const interval = () => {
      for (let i = 0; i < ticks; i++) {
        t.tick();
        lively.answer();
      }
    };
    interval();
    expect(quiet.pings).toBe(1);
    expect(dead).toEqual([]);
    interval();
    expect(dead).toEqual([quiet]);
    interval();
    expect(dead).toEqual([quiet]);
    expect(lively.pings).toBe(3);
  });

  it("a removed socket is neither pinged nor reported; a short interval still works (fewer ticks)", () => {
    const t = manualTicker();
    const dead: FakeSocket[] = [];
    const hb = new Heartbeat<FakeSocket>(15, (s) => dead.push(s), t.every);
    expect(t.tickMs()).toBe(15);
    const gone = new FakeSocket();
    hb.add(gone);
    hb.remove(gone);
    t.tick();
    t.tick();
    expect(gone.pings).toBe(0);
    expect(dead).toEqual([]);
  });
});
