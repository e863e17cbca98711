import type { ParticipantId, SessionId } from "../../domain/ids.js";
import type { Clock } from "../../ports/clock.js";
import type { AnswerFeed } from "../../ports/cluster.js";
import { TurnBatcher } from "../bus-batching.js";
import { type RedisConnection, RedisScript } from "./redis-connection.js";

/** Seed 002's channel for a quiz's answers, exactly as the seed names it. */
export function answerChannel(sessionId: string): string {
  return `quiz:updates:${sessionId}`;
}

interface Notice {
  channel: string;
  message: string;
}

/** Everything one turn stores goes out as one command; one key, so one write per turn. */
const ONE_WRITE = "answers";

/**
 * PUBLISHes each notice, in order: subscribers get one message per answer, as the seed has it.
 * One command for a turn's notices, not one each: a group commit settles hundreds of answers,
 * and every command costs the sender more than a PUBLISH costs Redis.
 * ARGV: channel, message, channel, message, …
 */
const PUBLISH_EACH = new RedisScript(`
for i = 1, #ARGV, 2 do
  redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return #ARGV / 2
`);

/**
 * AnswerFeed over Redis: each stored answer is PUBLISHed on seed 002's
 * `quiz:updates:{quiz_id}` with the seed's `{"participant_id","score"}`.
 *
 * The channel has no key prefix: other programs written from the seed subscribe
 * to that exact name, and quiz ids are UUIDv7s, so deployments sharing a Redis
 * do not meet on it. Notices of one turn of the event loop (a group commit
 * settles hundreds of answers at once) are gathered and sent as one script call,
 * so the answer path never waits on Redis and Redis sees one command per turn.
 * While Redis is away notices are dropped (subscribers of pub/sub miss what is
 * sent while they are away anyway); the outage is reported once.
 */
export class RedisAnswerFeed implements AnswerFeed {
  private readonly batcher: TurnBatcher<Notice>;
  private reportedDown = false;

  constructor(
    private readonly conn: RedisConnection,
    clock: Clock,
    private readonly onError: (err: unknown, context: string) => void,
  ) {
    this.batcher = new TurnBatcher<Notice>(clock, (n) => n.channel.length + n.message.length);
  }

  answerStored(sessionId: SessionId, participantId: ParticipantId, score: number): void {
    const notice = {
      channel: answerChannel(sessionId),
      message: JSON.stringify({ participant_id: participantId, score }),
    };
    this.batcher.add(ONE_WRITE, notice, (notices) => this.send(notices));
  }

  flush(): void {
    this.batcher.flush();
  }

  private send(notices: Notice[]): void {
    if (!this.conn.connected) {
      this.down(new Error("Redis is not connected"));
      return;
    }
    const args: string[] = [];
    for (const n of notices) args.push(n.channel, n.message);
    PUBLISH_EACH.run(this.conn, [], args).then(
      () => {
        this.reportedDown = false;
      },
      (err: unknown) => this.down(err),
    );
  }

  private down(err: unknown): void {
    if (this.reportedDown) return;
    this.reportedDown = true;
    this.onError(err, "seed 002 answer notices dropped until Redis is back");
  }
}
