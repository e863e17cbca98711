/**
 * A TCP proxy to put between a server under test and a shared service (Postgres, Redis), so a
 * test can make that service vanish for its own connections only, without stopping it for the
 * rest of the machine.
 */
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";

/**
 * How the service is cut off. `reset`: every connection is closed and new ones are closed as
 * soon as they arrive, as when the service restarts or crashes. `blackhole`: connections stay
 * open but nothing gets through in either direction, as when the network drops packets.
 */
export type OutageMode = "reset" | "blackhole";

export interface TcpProxy {
  /** The local port to connect to (on 127.0.0.1) instead of the target. */
  readonly port: number;
  /** Connections currently open through the proxy (held ones in a blackhole included). */
  readonly openConnections: number;
  /** Cuts the service off in the given way (default `reset`). */
  cut(mode?: OutageMode): void;
  /** Lets traffic through again. Connections that lived through a blackhole are closed. */
  restore(): void;
  /** Resolves once no connection is open through the proxy. */
  drained(): Promise<void>;
  /** Closes every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

/** Starts a proxy on a free port of 127.0.0.1 that forwards to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let state: "open" | OutageMode = "open";
  const pairs = new Set<Pair>();
  let drainWaiters: Array<() => void> = [];

  const forget = (pair: Pair) => {
    if (!pairs.delete(pair)) return;
    if (pairs.size === 0) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const w of waiters) w();
    }
  };
  const destroy = (pair: Pair) => {
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const server: Server = createServer((client) => {
    const pair: Pair = { client, upstream: undefined };
    client.on("error", () => undefined);
    client.on("close", () => {
      pair.upstream?.destroy();
      forget(pair);
    });
    if (state === "reset") {
      client.destroy();
      return;
    }
    pairs.add(pair);
    if (state === "blackhole") {
      client.pause(); // held: accepted, never forwarded
      return;
    }
    const upstream = netConnect({ host: target.host, port: target.port });
    pair.upstream = upstream;
    upstream.on("error", () => undefined);
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");

  return {
    port: address.port,
    get openConnections() {
      return pairs.size;
    },
    cut(mode: OutageMode = "reset") {
      state = mode;
      for (const pair of pairs) {
        if (mode === "reset") {
          destroy(pair);
        } else {
          // Stop both directions; bytes already in flight stay in the kernel's buffers.
          pair.client.unpipe();
          pair.upstream?.unpipe();
          pair.client.pause();
          pair.upstream?.pause();
        }
      }
    },
    restore() {
      const wasBlackhole = state === "blackhole";
      state = "open";
      // A conversation interrupted half-way cannot be resumed; its client reconnects.
      if (wasBlackhole) for (const pair of pairs) destroy(pair);
    },
    drained() {
      if (pairs.size === 0) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
    async close() {
      for (const pair of pairs) destroy(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
