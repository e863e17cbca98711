import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A tiny TCP load balancer for tests, like nginx in compose.yaml: each new
 * connection goes to the next backend in turn; a backend that refuses the
 * connection is skipped. No stickiness, so a client that reconnects after its
 * instance died lands on another one.
 */
export interface RoundRobinProxy {
  readonly port: number;
  /** Connections accepted per backend port, for checking the spread. */
  readonly accepted: Map<number, number>;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: number[]): Promise<RoundRobinProxy> {
  let next = 0;
  const accepted = new Map<number, number>();
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };

  // Each connection starts at the next backend in turn, then tries every other one once: with
  // many clients reconnecting at once, a shared counter would send many to the dead one again.
  const pipeTo = (client: Socket, tried: number, start = next++) => {
    if (tried >= backends.length) {
      client.destroy();
      return;
    }
    const port = backends[(start + tried) % backends.length] ?? 0;
    const upstream = connect({ host: "127.0.0.1", port });
    track(upstream);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      accepted.set(port, (accepted.get(port) ?? 0) + 1);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on("error", () => {
      if (!connected) pipeTo(client, tried + 1, start);
      else client.destroy();
    });
    upstream.on("close", () => {
      if (connected) client.destroy();
    });
  };

  const server: Server = createServer((client) => {
    track(client);
    // Paused until the upstream connects; pipe() resumes it, so nothing is lost meanwhile.
    client.pause();
    client.on("error", () => undefined);
    pipeTo(client, 0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    accepted,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
