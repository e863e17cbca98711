import { createHash } from "node:crypto";
import { Redis } from "ioredis";

/** Prefix of every key and channel unless configured otherwise. */
export const DEFAULT_KEY_PREFIX = "quizwire:";

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL (REDIS_URL). */
  url: string;
  /** Starts every key and channel, so deployments and test runs can share one server. */
  keyPrefix?: string;
  /** Shown in `CLIENT LIST` after the prefix (e.g. `instance-a:sub`). */
  name?: string;
  /** TCP connect timeout of each attempt. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** A command without a reply after this long rejects. Default 5 000 ms. */
  commandTimeoutMs?: number;
  /** Reconnect backoff doubles from 50 ms up to this. Default 2 000 ms. */
  maxBackoffMs?: number;
  /** How long `open` waits for the first connection before it rejects. Default 10 000 ms. */
  openTimeoutMs?: number;
  /**
   * A PING is sent this often; one without a reply within `healthCheckTimeoutMs` drops the
   * connection so it is rebuilt. This notices a network that silently stopped delivering,
   * which TCP alone would notice only after minutes. Default 1 000 ms; 0 turns it off.
   */
  healthCheckIntervalMs?: number;
  /** Default 2 000 ms. */
  healthCheckTimeoutMs?: number;
}

/**
 * Runs `fn` on a connection of its own (no health checks: it lives only for `fn`), closed after:
 * for a one-off job such as deleting or counting a prefix's keys.
 */
export async function withConnection<T>(
  options: RedisConnectionOptions,
  fn: (conn: RedisConnection) => Promise<T>,
): Promise<T> {
  const conn = await RedisConnection.open({ healthCheckIntervalMs: 0, ...options });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/**
 * One ioredis client for a Redis URL, with the deployment's key prefix.
 *
 * Commands never wait for a connection: while Redis is unreachable they reject at once, and a
 * command in flight when the connection drops rejects too (never silently re-sent later). The
 * client reconnects by itself with capped backoff, forever, so a Redis restart is survived;
 * `onReconnected` handlers run each time it is back.
 */
export class RedisConnection {
  /** The ioredis client, for the adapters. Keys passed to it must come from `key`. */
  readonly client: Redis;
  readonly prefix: string;
  private readonly options: RedisConnectionOptions;
  private wasReady = false;
  private down = false;
  private closed = false;
  private readonly reconnectedHandlers = new Set<() => void>();
  private readonly disconnectedHandlers = new Set<() => void>();
  private lastErrorValue: Error | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private pingInFlight = false;

  private constructor(options: RedisConnectionOptions) {
    this.options = options;
    this.prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    const maxBackoff = options.maxBackoffMs ?? 2_000;
    this.client = new Redis(options.url, {
      lazyConnect: true,
      connectionName: connectionName(this.prefix, options.name),
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      commandTimeout: options.commandTimeoutMs ?? 5_000,
      // Fail fast: no offline queue, and whatever was in flight at a drop is rejected at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // The bus restores its own subscriptions, so it knows when they are all back.
      autoResubscribe: false,
      retryStrategy: (attempt) => Math.min(maxBackoff, 50 * 2 ** Math.min(attempt - 1, 16)),
    });
    // Without a listener ioredis prints every connection error; failures reach callers as rejections.
    this.client.on("error", (err: Error) => {
      this.lastErrorValue = err;
    });
    this.client.on("ready", () => this.handleReady());
    this.client.on("close", () => this.handleClose());
    const interval = options.healthCheckIntervalMs ?? 1_000;
    if (interval > 0) {
      this.healthTimer = setInterval(
        () => this.checkHealth(options.healthCheckTimeoutMs ?? 2_000),
        interval,
      );
      this.healthTimer.unref();
    }
  }

  /**
   * Connects to `options.url`; resolves once the connection is ready. Rejects (and gives up)
   * when it is not ready within `openTimeoutMs`.
   */
  static async open(options: RedisConnectionOptions): Promise<RedisConnection> {
    const conn = new RedisConnection(options);
    const timeoutMs = options.openTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.client.removeListener("ready", onReady);
        conn.closed = true;
        clearInterval(conn.healthTimer);
        conn.client.disconnect();
        const cause = conn.lastErrorValue ? `: ${conn.lastErrorValue.message}` : "";
        reject(
          new Error(
            `Redis at ${redactUrl(options.url)} not reachable within ${timeoutMs} ms${cause}`,
          ),
        );
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      conn.client.once("ready", onReady);
      // A failed first attempt rejects this promise, but ioredis keeps retrying; the timer decides.
      conn.client.connect().catch(() => {});
    });
    return conn;
  }

  /** Another connection to the same server with the same settings (a subscriber needs its own). */
  duplicate(name: string): Promise<RedisConnection> {
    return RedisConnection.open({ ...this.options, name });
  }

  /** `prefix` + the parts joined by ":". */
  key(...parts: string[]): string {
    return this.prefix + parts.join(":");
  }

  /** Deletes every key under this connection's prefix; resolves with how many there were. */
  async deleteOwnKeys(): Promise<number> {
    let deleted = 0;
    await this.scanOwnKeys(async (keys) => {
      deleted += await this.client.del(...keys);
    });
    return deleted;
  }

  /** How many keys there are under this connection's prefix. */
  async countOwnKeys(): Promise<number> {
    let n = 0;
    await this.scanOwnKeys(async (keys) => {
      n += keys.length;
    });
    return n;
  }

  /** Every key under the prefix, a SCAN page at a time (SCAN, not KEYS: Redis stays responsive). */
  private async scanOwnKeys(each: (keys: string[]) => Promise<void>): Promise<void> {
    // SCAN's MATCH is a glob: the prefix's own special characters are escaped.
    const pattern = `${this.prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    let cursor = "0";
    do {
      const [next, keys] = await this.client.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await each(keys);
    } while (cursor !== "0");
  }

  /** Whether commands can be sent right now. */
  get connected(): boolean {
    return !this.closed && this.client.status === "ready";
  }

  /** The last connection error ioredis reported, for health output. */
  get lastError(): Error | undefined {
    return this.lastErrorValue;
  }

  /** Runs `handler` each time the connection is ready again after a drop. Returns a remover. */
  onReconnected(handler: () => void): () => void {
    this.reconnectedHandlers.add(handler);
    return () => this.reconnectedHandlers.delete(handler);
  }

  /** Runs `handler` each time a ready connection drops. Returns a remover. */
  onDisconnected(handler: () => void): () => void {
    this.disconnectedHandlers.add(handler);
    return () => this.disconnectedHandlers.delete(handler);
  }

  /** Closes the connection (waiting for pending replies when connected) and stops reconnecting. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.healthTimer);
    this.reconnectedHandlers.clear();
    this.disconnectedHandlers.clear();
    if (this.client.status === "ready") {
      try {
        await this.client.quit();
        return;
      } catch {
        // The connection went away while quitting; disconnect below ends it for good.
      }
    }
    this.client.disconnect();
  }

  private checkHealth(timeoutMs: number): void {
    const client = this.client;
    if (this.closed || this.pingInFlight || client.status !== "ready") return;
    this.pingInFlight = true;
    const stream = client.stream;
    // Tear the socket down (a graceful end would wait for the silent peer) so ioredis
    // reconnects: whatever is in flight rejects and `connected` is false meanwhile.
    const teardown = () => {
      if (this.closed || client.stream !== stream || client.status !== "ready") return;
      this.lastErrorValue = new Error(`Redis did not answer PING within ${timeoutMs} ms`);
      stream.destroy();
    };
    const timer = setTimeout(teardown, timeoutMs);
    client
      .ping()
      .catch((err: unknown) => {
        // Otherwise the PING failed because the connection is already going down.
        if (err instanceof Error && err.message === "Command timed out") teardown();
      })
      .finally(() => {
        clearTimeout(timer);
        this.pingInFlight = false;
      });
  }

  private handleReady(): void {
    if (!this.wasReady) {
      this.wasReady = true;
      return;
    }
    if (!this.down) return;
    this.down = false;
    for (const handler of [...this.reconnectedHandlers]) handler();
  }

  private handleClose(): void {
    if (this.closed || !this.wasReady || this.down) return;
    this.down = true;
    for (const handler of [...this.disconnectedHandlers]) handler();
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}

// CLIENT SETNAME refuses spaces and newlines.
function connectionName(prefix: string, name: string | undefined): string {
  return `${prefix}${name ?? "client"}`.replace(/[^\w:.@/-]/g, "_");
}

/** A Lua script run by its SHA1 (EVALSHA), sent in full only when the server does not know it yet. */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(conn: RedisConnection, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await conn.client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith("NOSCRIPT"))) throw err;
      return conn.client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
