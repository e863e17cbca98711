import type { ViewerRole } from "../../engine/types.js";
import type { EventFrame, SplicedFrame } from "./dialect.js";
import { headerLength } from "./text-frame.js";

/**
 * What the connections of one role get of a room step's frames, as one piece per socket: frames
 * that are the same for all of them (`payloads`, which the transport frames and joins once for
 * every socket, `DoorSocket.sendAll`), then at most one frame with each player's own part
 * (`personal`: a reveal, the shared bytes around the player's result).
 */
export interface RoleBundle {
  readonly payloads: readonly Buffer[];
  /** The last frame, spliced around each player's own part; only in a player's bundle. */
  readonly personal: SplicedFrame | null;
  /** The bundle's bytes with their headers, but a personal part: how much a socket's backlog grows by. */
  readonly bytes: number;
  /** A client that is behind may skip one of them (`coalescible`): it is sent frame by frame. */
  readonly coalescible: boolean;
  /** Where each frame came from, the personal one last: its event's place in the step and its own in the event's. */
  readonly sources: ReadonlyArray<readonly [event: number, frame: number]>;
  /** Sockets the bundle went to. */
  recipients: number;
}

/**
 * The bundles of one room step's frames (a game's `started`, the player count riding along and
 * the first question; a question's close and its reveal), made per role on first use. A step
 * of three broadcasts to 10,000 players then costs each socket one piece, as a single
 * broadcast does, instead of three frames joined into a buffer of its own: the first
 * question's fan-out went from a median of 310 ms to 269 (ARCHITECTURE.md, step 9).
 */
export class StepBundles {
  private readonly byRole = new Map<ViewerRole | null, RoleBundle | null>();

  constructor(private readonly frames: ReadonlyArray<readonly EventFrame[]>) {}

  /**
   * What a connection of `role` gets (null: not yet known, it gets frames for every role only),
   * or null when its frames must go one by one: one of them is not the same for every recipient
   * of the role (it skips a participant, is latest-only or may wait), or a frame with a
   * personal part is not the last of them.
   */
  forRole(role: ViewerRole | null): RoleBundle | null {
    let bundle = this.byRole.get(role);
    if (bundle === undefined) {
      bundle = this.make(role);
      this.byRole.set(role, bundle);
    }
    return bundle;
  }

  /** Counts each bundle's recipients as recipients of every frame in it. */
  addTo(tallies: number[][]): void {
    for (const bundle of this.byRole.values()) {
      if (bundle === null || bundle.recipients === 0) continue;
      for (const [e, f] of bundle.sources) {
        const tally = tallies[e] as number[];
        tally[f] = (tally[f] ?? 0) + bundle.recipients;
      }
    }
  }

  private make(role: ViewerRole | null): RoleBundle | null {
    const payloads: Buffer[] = [];
    const sources: Array<readonly [number, number]> = [];
    let personal: SplicedFrame | null = null;
    let bytes = 0;
    let coalescible = false;
    for (let e = 0; e < this.frames.length; e++) {
      const eventFrames = this.frames[e] as readonly EventFrame[];
      for (let i = 0; i < eventFrames.length; i++) {
        const f = eventFrames[i] as EventFrame;
        if (f.roles !== null && (role === null || !f.roles.has(role))) continue;
        if (f.about !== null || f.latestOnly || f.mayWait || personal !== null) return null;
        if (f.personal !== null && role === "player") {
          if (typeof f.personal === "function") return null;
          personal = f.personal;
          bytes += headerLength(0xffff) + personal.before.length + personal.after.length;
        } else if (f.shared !== null) {
          payloads.push(f.shared);
          bytes += headerLength(f.shared.length) + f.shared.length;
        } else {
          continue;
        }
        sources.push([e, i]);
        coalescible ||= f.coalescible;
      }
    }
    return { payloads, personal, bytes, coalescible, sources, recipients: 0 };
  }
}
