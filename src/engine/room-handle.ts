import type { SessionId } from "../domain/ids.js";
import type { SessionRecord } from "../ports/storage.js";
import type { Actor, Command, Reply, ResultOf, RoomListener } from "./types.js";

export interface ExecuteOptions {
  /**
   * The client's message identity (e.g. user + msg_id). A command retried with the
   * same key gets the first reply back and is not applied again, even when the
   * retry reaches the owner through another instance.
   */
  dedupeKey?: string;
}

/** What never changes about a session once it exists: doors may read it without asking the owner. */
export type SessionInfo = Omit<SessionRecord, "state">;

/**
 * A door's view of one session, wherever the session runs: in this process
 * (RoomRuntime) or on another instance (a proxy that forwards commands to the
 * owner and relays its events). Doors use nothing else.
 */
export interface RoomHandle {
  readonly id: SessionId;
  readonly info: SessionInfo;
  /**
   * Applies a command on the session's owner and resolves with that command's
   * result (a join's JoinResult, an answer's AnswerAck, …). Answers resolve once stored.
   */
  execute<C extends Command>(
    actor: Actor,
    command: C,
    opts?: ExecuteOptions,
  ): Promise<Reply<ResultOf<C>>>;
  /**
   * Receives the session's events in order. `onResync` is called when events
   * may have been missed (a lost message between instances, a new owner): the
   * door should send its clients a fresh snapshot.
   */
  subscribe(listener: RoomListener, onResync?: () => void): () => void;
}
