import { expect } from "vitest";
import WebSocket from "ws";
import type { AnyServerFrame, ServerData } from "../../src/doors/canonical/protocol.js";
import { QuizwireClient, type QuizwireClientOptions } from "../../src/sdk/index.js";

/** An SDK client for Node, connected. Reconnects fast so tests don't wait on backoff. */
export async function connectClient(
  url: string,
  opts: Partial<QuizwireClientOptions> = {},
): Promise<QuizwireClient> {
  const client = new QuizwireClient({
    url,
    WebSocket: WebSocket as unknown as QuizwireClientOptions["WebSocket"],
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    requestTimeoutMs: 5_000,
    ...opts,
  });
  await client.connect();
  return client;
}

/** Records every frame of one type a client receives. */
export function record<T>(client: QuizwireClient, type: Parameters<QuizwireClient["on"]>[0]): T[] {
  const out: T[] = [];
  client.on(type, ((data: T) => out.push(data)) as never);
  return out;
}

/**
 * A bare WebSocket speaking raw frames, for tests of the protocol edge (bad
 * input, replays) that the SDK would never send.
 */
export class RawSocket {
  readonly frames: AnyServerFrame[] = [];
  closeCode: number | null = null;
  closeReason = "";
  private waiters: Array<{
    match: (f: AnyServerFrame) => boolean;
    resolve: (f: AnyServerFrame) => void;
  }> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as AnyServerFrame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = String(reason);
      for (const w of this.closeWaiters) w();
    });
  }

  static async open(url: string): Promise<RawSocket> {
    const ws = new WebSocket(url);
    const raw = new RawSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    await raw.next((f) => f.type === "welcome");
    return raw;
  }

  send(frame: unknown): void {
    this.ws.send(
      typeof frame === "string" || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame),
    );
  }

  /** The first frame (already received or still to come) that matches. */
  next(match: (f: AnyServerFrame) => boolean): Promise<AnyServerFrame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Sends a request and waits for the first reply frame carrying its msg_id. */
  async request(
    type: string,
    msgId: string,
    data: unknown = {},
    roomId?: string,
  ): Promise<AnyServerFrame> {
    const before = this.frames.length;
    this.send({ v: 1, type, msg_id: msgId, ...(roomId ? { room_id: roomId } : {}), data });
    return this.next((f) => f.msg_id === msgId && this.frames.indexOf(f) >= before);
  }

  closed(): Promise<void> {
    if (this.closeCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Everything of the given types a client receives, in order, with a way to
 * wait for the first match that has arrived or will arrive — so a test never
 * misses an event that came before it started waiting.
 */
export class EventLog {
  readonly events: Array<{ type: string; data: unknown }> = [];
  private waiters: Array<{
    type: string;
    match: (d: never) => boolean;
    resolve: (d: unknown) => void;
  }> = [];

  constructor(client: QuizwireClient, types: readonly string[]) {
    for (const type of types) {
      client.on(
        type as never,
        ((data: unknown) => {
          this.events.push({ type, data });
          this.waiters = this.waiters.filter((w) => {
            if (w.type !== type || !w.match(data as never)) return true;
            w.resolve(data);
            return false;
          });
        }) as never,
      );
    }
  }

  /** The first event of `type` matching `match` (default: any), received before or after this call. */
  wait<T>(type: string, match: (d: T) => boolean = () => true): Promise<T> {
    const found = this.events.find((e) => e.type === type && match(e.data as T));
    if (found) return Promise.resolve(found.data as T);
    return new Promise((resolve) =>
      this.waiters.push({
        type,
        match: match as (d: never) => boolean,
        resolve: resolve as (d: unknown) => void,
      }),
    );
  }

  /** The n-th (1-based) event of `type`, received before or after this call. */
  nth<T>(type: string, n: number): Promise<T> {
    let seen = 0;
    return this.wait<T>(type, () => {
      seen += 1;
      return seen >= n;
    });
  }

  all<T>(type: string): T[] {
    return this.events.filter((e) => e.type === type).map((e) => e.data as T);
  }
}

/** Drops a client's socket as a flaky network would (the client should reconnect and resume). */
export function dropConnection(client: QuizwireClient): void {
  (client as unknown as { socket: { close(code?: number): void } | null }).socket?.close(4999);
}

/** A frame's data, after asserting it is a frame of `type` (the whole frame is the message). */
export function dataOf<T extends AnyServerFrame["type"]>(
  f: AnyServerFrame,
  type: T,
): ServerData<T> {
  expect(f.type, JSON.stringify(f)).toBe(type);
  return f.data as ServerData<T>;
}

/** The user id a raw socket was welcomed as. */
export function userIdOf(s: RawSocket): string {
  const w = s.frames.find((f) => f.type === "welcome") as AnyServerFrame & {
    data: ServerData<"welcome">;
  };
  return w.data.user_id;
}

/**
 * Raw sockets of one test file: `open` connects one to the file's server (the URL is read when
 * called, after `beforeAll` set it), `closeAll` closes every one in `afterAll`.
 */
export function rawSockets(url: () => string): {
  open(): Promise<RawSocket>;
  closeAll(): void;
} {
  const opened: RawSocket[] = [];
  return {
    async open() {
      const s = await RawSocket.open(url());
      opened.push(s);
      return s;
    },
    closeAll() {
      for (const s of opened) s.close();
    },
  };
}

/** Message ids unique within a test file: `create-1`, `join-2`, … */
export function messageIds(): (what: string) => string {
  let ids = 0;
  return (what) => `${what}-${++ids}`;
}

/**
 * SDK clients of one test file (or block): `open` connects one to the URL of the moment, `track`
 * adds one made otherwise, `closeAll` closes every one in `afterAll`.
 */
export function sdkClients(url: () => string): {
  open(): Promise<QuizwireClient>;
  track(c: QuizwireClient): QuizwireClient;
  closeAll(): void;
} {
  const opened: QuizwireClient[] = [];
  return {
    async open() {
      const c = await connectClient(url());
      opened.push(c);
      return c;
    },
    track(c) {
      opened.push(c);
      return c;
    },
    closeAll() {
      for (const c of opened) c.close();
    },
  };
}

/** The HTTP status an upgrade got: 101 when it opened. */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once("error", reject);
  });
}
