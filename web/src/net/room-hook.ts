import { useEffect, useReducer, useState } from "preact/hooks";
import {
  type ConnectionState,
  INITIAL_CONNECTION,
  reduceConnection,
  settleWithoutRoom,
} from "../lib/connection.js";
import { preloadImage } from "../lib/question-image.js";
import { type RoomAction, type RoomView, reduceRoom } from "../lib/room-view.js";
import type { ServerData } from "../lib/types.js";
import type { QuizwireClient } from "./client.js";

/** Room events every screen folds into its RoomView. */
const ROOM_EVENTS = [
  "player_joined",
  "player_left",
  "presence",
  "player_count",
  "started",
  "question",
  "answer_count",
  "question_closed",
  "score",
  "reveal",
  "intermission",
  "leaderboard",
  "lock",
  "end",
] as const;

export interface RoomConnection {
  view: RoomView | null;
  connection: ConnectionState;
  dispatch: (action: RoomAction) => void;
  /** The kick frame, if the host removed this player. */
  kicked: ServerData<"kick"> | null;
}

/**
 * Follows one SDK client: every `state` and room event into a RoomView, and
 * the lifecycle events into the connection banner's state.
 */
export function useRoomConnection(client: QuizwireClient | null): RoomConnection {
  const [view, dispatch] = useReducer(reduceRoom, client?.lastState ?? null, (s) =>
    s ? reduceRoom(null, { type: "state", snapshot: s }) : null,
  );
  const [connection, setConnection] = useState<ConnectionState>(INITIAL_CONNECTION);
  const [kicked, setKicked] = useState<ServerData<"kick"> | null>(null);

  useEffect(() => {
    if (!client) return;
    const last = client.lastState;
    if (last) dispatch({ type: "state", snapshot: last });
    const offs: Array<() => void> = [];
    offs.push(client.on("state", (s) => dispatch({ type: "state", snapshot: s })));
    for (const type of ROOM_EVENTS) {
      offs.push(
        client.on(type, (data, frame) => {
          dispatch({
            type: "event",
            event: { type, data, epoch: frame?.epoch, seq: frame?.seq },
          });
        }),
      );
    }
    offs.push(client.on("kick", (k) => setKicked(k)));
    // The next question's picture loads during this reveal, so it shows the moment it opens.
    offs.push(client.on("reveal", (r) => preloadImage(r.next_image)));
    const conn = (e: Parameters<typeof reduceConnection>[1]) =>
      setConnection((s) => {
        const next = reduceConnection(s, e);
        return e.type === "connected" && client.roomId === null ? settleWithoutRoom(next) : next;
      });
    offs.push(client.on("connected", () => conn({ type: "connected" })));
    offs.push(
      client.on("disconnected", (d) =>
        conn({ type: "disconnected", willReconnect: d.willReconnect, code: d.code }),
      ),
    );
    offs.push(
      client.on("reconnecting", (r) =>
        conn({ type: "reconnecting", attempt: r.attempt, delayMs: r.delayMs, now: Date.now() }),
      ),
    );
    offs.push(client.on("resumed", () => conn({ type: "resumed" })));
    offs.push(
      client.on("resume_failed", (f) =>
        conn({ type: "resume_failed", reason: f.error.reason ?? f.error.code }),
      ),
    );
    offs.push(client.on("closed", (c) => conn({ type: "closed", code: c.code, reason: c.reason })));
    return () => {
      for (const off of offs) off();
    };
  }, [client]);

  return { view, connection, dispatch, kicked };
}

/**
 * The server's clock, re-read every `everyMs` while `active`: what countdowns
 * render from. Uses the SDK's offset estimate, so every device shows the same
 * time left for the same deadline.
 */
export function useServerNow(
  client: QuizwireClient | null,
  active: boolean,
  everyMs = 250,
): number {
  const read = () => (client ? client.serverNow() : Date.now());
  const [now, setNow] = useState(read);
  useEffect(() => {
    setNow(read());
    if (!active) return;
    const t = setInterval(() => setNow(read()), everyMs);
    return () => clearInterval(t);
  }, [client, active, everyMs]);
  return now;
}

/** The local clock, re-read every `everyMs` while `active` (reconnect banner countdowns). */
export function useLocalNow(active: boolean, everyMs = 500): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [active, everyMs]);
  return now;
}
