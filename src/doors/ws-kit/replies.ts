import type { LocalReplayCache } from "../../ports/cluster.js";

/**
 * Replies to messages that change something, by message key, so a retried
 * message gets the first reply again: shared while the first is still
 * being worked out, then kept in the replay cache.
 *
 * Kept as the reply itself, not as text: every answer and join is remembered for the replay
 * window (two minutes), and a JSON copy of each (its frames escaped inside it, about 750 bytes)
 * was new memory per message that lived long enough to be promoted and copied by the young
 * generation's collector; 30 MB of them were not yet collected at the end of a 10,000-player game. A reply
 * is not changed after it is made (the driver only reads it), so holding it costs nothing more
 * than its frames, which were made anyway.
 */
export class ReplyCache<R> {
  private readonly inflight = new Map<string, Promise<R>>();

  constructor(
    /** Null for a dialect whose messages are never replayed (they carry no ids). */
    private readonly cache: LocalReplayCache<R> | null,
    private readonly ttlMs: number,
    /** Whether a finished reply is kept; a retry after a recoverable failure should really run again. */
    private readonly remember: (reply: R) => boolean,
    /** What of a reply is kept (default: all of it). */
    private readonly kept: (reply: R) => R = (reply) => reply,
  ) {}

  /** The reply already given for this key, if it is still remembered. */
  done(key: string): R | undefined {
    return this.cache?.getSync(key);
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
      if (this.remember(reply)) this.cache?.putSync(key, this.kept(reply), this.ttlMs);
      return reply;
    });
  }
}
