import type { LocalReplayCache } from "../../ports/cluster.js";

/**
 * Replies to messages that change something, by message key, so a retried
 * message gets the first reply again: shared while the first is still
 * being worked out, then kept in the replay cache.
 */
export class ReplyCache<R> {
  private readonly inflight = new Map<string, Promise<R>>();

  constructor(
    /** Null for a dialect whose messages are never replayed (they carry no ids). */
    private readonly cache: LocalReplayCache | null,
    private readonly ttlMs: number,
    /** Whether a finished reply is kept; a retry after a recoverable failure should really run again. */
    private readonly remember: (reply: R) => boolean,
    /** What of a reply is kept (default: all of it). */
    private readonly kept: (reply: R) => R = (reply) => reply,
  ) {}

  /** The reply already given for this key, if it is still remembered. */
  done(key: string): R | undefined {
    const cached = this.cache?.getSync(key);
    return cached === undefined ? undefined : (JSON.parse(cached) as R);
  }

  /** The reply still being worked out for this key, if any. */
  running(key: string): Promise<R> | undefined {
    return this.inflight.get(key);
  }

  /** Works out the reply for `key` (null: a message nobody will retry, nothing is kept). */
  run(key: string | null, work: Promise<R>): Promise<R> {
    if (key === null) return work;
    this.inflight.set(key, work);
    return work.then((reply) => {
      this.inflight.delete(key);
      if (this.remember(reply))
        this.cache?.putSync(key, JSON.stringify(this.kept(reply)), this.ttlMs);
      return reply;
    });
  }
}
