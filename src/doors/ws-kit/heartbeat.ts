import type { WebSocket } from "ws";

/**
 * Protocol-level pings: every interval each socket is pinged; one that has not
 * answered the previous ping is handed to `onDead` (the door closes it).
 */
export class Heartbeat {
  private readonly alive = new Map<WebSocket, boolean>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly intervalMs: number,
    private readonly onDead: (ws: WebSocket) => void,
  ) {
    this.timer = setInterval(() => this.beat(), intervalMs);
    this.timer.unref();
  }

  add(ws: WebSocket): void {
    this.alive.set(ws, true);
    ws.on("pong", () => {
      if (this.alive.has(ws)) this.alive.set(ws, true);
    });
  }

  remove(ws: WebSocket): void {
    this.alive.delete(ws);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    for (const [ws, alive] of this.alive) {
      if (!alive) {
        this.alive.delete(ws);
        this.onDead(ws);
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }
}
