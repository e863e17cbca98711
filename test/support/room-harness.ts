import { hashToken } from "../../src/auth/token-hash.js";
import type { AnswerValue } from "../../src/domain/quiz.js";
import { SeededRandom } from "../../src/domain/seeded-random.js";
import { Room } from "../../src/engine/room.js";
import type {
  Actor,
  Command,
  CommandResult,
  EventBody,
  JoinResult,
  Reply,
  RoomEvent,
} from "../../src/engine/types.js";
import type { SessionRecord, SessionWrite } from "../../src/ports/storage.js";
import { hostActor, playerActor } from "./fixtures.js";

type StoreMode = "ok" | "hold";

/**
 * Drives a pure Room the way RoomRuntime does, with time moved by hand and
 * storage that succeeds at once (or holds answers until told), so unit tests
 * play whole games without I/O or real waiting.
 */
export class RoomHarness {
  now: number;
  readonly room: Room;
  readonly events: RoomEvent[] = [];
  readonly writes: SessionWrite[] = [];
  storeMode: StoreMode = "ok";
  readonly held: number[] = [];

  constructor(record: SessionRecord, seed = 1) {
    this.now = record.createdAt;
    this.room = Room.create(record, { random: new SeededRandom(seed), hashToken });
    this.drain();
  }

  exec(actor: Actor, command: Command, requestKey?: string): Reply<CommandResult> | undefined {
    const out = this.room.execute(actor, command, this.now, requestKey);
    this.drain();
    if (out.kind === "reply") return out.reply;
    if (this.storeMode === "hold") {
      this.held.push(out.ticket);
      return undefined;
    }
    const [r] = this.room.stored([out.ticket], this.now);
    this.drain();
    return r?.reply;
  }

  /** Joins a player and returns an actor bound to their membership. */
  join(name: string, connected = true): Actor {
    const actor = playerActor(name);
    const reply = this.exec(actor, { type: "join", name });
    if (!reply?.ok) throw new Error(`join ${name} failed: ${JSON.stringify(reply)}`);
    const bound = { ...actor, participantId: (reply.value as JoinResult).participantId };
    if (connected) this.exec(bound, { type: "presence", connected: true });
    return bound;
  }

  start(): Reply<CommandResult> | undefined {
    return this.exec(hostActor, { type: "start" });
  }

  answer(actor: Actor, index: number, answer: AnswerValue): Reply<CommandResult> | undefined {
    return this.exec(actor, { type: "answer", target: { index }, answer });
  }

  choose(actor: Actor, index: number, choice: number): Reply<CommandResult> | undefined {
    return this.answer(actor, index, { kind: "choice", index: choice });
  }

  /** Stores every held answer; returns their replies in order. */
  releaseHeld(): Reply<CommandResult>[] {
    const tickets = this.held.splice(0);
    const replies = this.room.stored(tickets, this.now).map((r) => r.reply);
    this.drain();
    return replies;
  }

  failHeld(): Reply<CommandResult>[] {
    const tickets = this.held.splice(0);
    const replies = this.room
      .storeFailed(tickets, this.now, { code: "UNAVAILABLE", msg: "down" })
      .map((r) => r.reply);
    this.drain();
    return replies;
  }

  /** Moves time forward, ticking the room at each moment it asked to wake. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const wake = this.room.nextWakeAt();
      if (wake === null || wake > target) break;
      this.now = Math.max(this.now, wake);
      this.room.tick(this.now);
      this.drain();
    }
    this.now = target;
  }

  bodies<T extends EventBody["type"]>(type: T): Extract<EventBody, { type: T }>[] {
    return this.events
      .map((e) => e.body)
      .filter((b): b is Extract<EventBody, { type: T }> => b.type === type);
  }

  last<T extends EventBody["type"]>(type: T): Extract<EventBody, { type: T }> {
    const all = this.bodies(type);
    const b = all[all.length - 1];
    if (!b) throw new Error(`no ${type} event`);
    return b;
  }

  get phase() {
    return this.room.currentPhase;
  }

  private drain(): void {
    const { events, writes } = this.room.drain();
    this.events.push(...events);
    this.writes.push(...writes.map((w) => w.write));
  }
}
