import type { ParticipantId, SessionId } from "../../domain/ids.js";
import type { RoomHandle } from "../../engine/room-handle.js";
import type { RoomEvent, ViewerRole } from "../../engine/types.js";

/** What a door's connection must expose to be grouped by room. */
export interface GroupMember {
  participantId: ParticipantId | null;
  role: ViewerRole | null;
}

/** The connections of one room in one door, subscribed to the room's events. */
export class RoomGroup<C extends GroupMember> {
  readonly conns = new Set<C>();
  readonly byParticipant = new Map<ParticipantId, Set<C>>();
  /**
   * The connections that are not players (hosts, spectators): frames only
   * they get (a join announced to the host, an answer count) are delivered by
   * walking these, not the whole room.
   */
  readonly staff = new Set<C>();
  unsubscribe: () => void = () => {};
  /** Events of the room step being delivered, held until its last one arrives (`RoomListener`'s `more`). */
  step: RoomEvent[] = [];

  constructor(readonly handle: RoomHandle) {}

  /** Connections of one participant (a player may have several tabs open). */
  of(participantId: ParticipantId): ReadonlySet<C> | undefined {
    return this.byParticipant.get(participantId);
  }
}

/**
 * A door's connections grouped by room: the first connection of a room
 * subscribes the door to the room's events, the last one to leave
 * unsubscribes. Events arrive at `onEvent` with the room's group, or, when one
 * room step has several (a game's start and its first question, a question's
 * close and its reveal), at `onStep` all at once.
 */
export class RoomGroups<C extends GroupMember> {
  private readonly groups = new Map<SessionId, RoomGroup<C>>();

  constructor(
    private readonly onEvent: (group: RoomGroup<C>, event: RoomEvent) => void,
    /** Two or more events of one room step, in order. */
    private readonly onStep: (group: RoomGroup<C>, events: readonly RoomEvent[]) => void,
    /** Events may have been missed (another instance's messages lost, a new owner): resend state. */
    private readonly onResync?: (group: RoomGroup<C>) => void,
  ) {}

  get size(): number {
    return this.groups.size;
  }

  get(sessionId: SessionId): RoomGroup<C> | undefined {
    return this.groups.get(sessionId);
  }

  /** Adds a connection (with its current participantId) to the room's group. */
  add(handle: RoomHandle, conn: C): RoomGroup<C> {
    let group = this.groups.get(handle.id);
    if (!group) {
      const g = new RoomGroup<C>(handle);
      g.unsubscribe = handle.subscribe(
        (e, more) => this.received(g, e, more === true),
        () => this.onResync?.(g),
      );
      this.groups.set(handle.id, g);
      group = g;
    }
    group.conns.add(conn);
    if (isStaff(conn.role)) group.staff.add(conn);
    if (conn.participantId) {
      let set = group.byParticipant.get(conn.participantId);
      if (!set) {
        set = new Set();
        group.byParticipant.set(conn.participantId, set);
      }
      set.add(conn);
    }
    return group;
  }

  private received(group: RoomGroup<C>, event: RoomEvent, more: boolean): void {
    if (more) {
      group.step.push(event);
      return;
    }
    if (group.step.length === 0) {
      this.onEvent(group, event);
      return;
    }
    const step = group.step;
    group.step = [];
    step.push(event);
    this.onStep(group, step);
  }

  /** Removes a connection; the group unsubscribes when it empties. */
  remove(group: RoomGroup<C>, conn: C): void {
    group.conns.delete(conn);
    group.staff.delete(conn);
    if (conn.participantId) {
      const set = group.byParticipant.get(conn.participantId);
      set?.delete(conn);
      if (set?.size === 0) group.byParticipant.delete(conn.participantId);
    }
    if (group.conns.size === 0 && this.groups.get(group.handle.id) === group) {
      group.unsubscribe();
      this.groups.delete(group.handle.id);
    }
  }

  /** Re-files a connection whose participant or role changed (join or resume); the subscription stays. */
  reassign(
    group: RoomGroup<C>,
    conn: C,
    participantId: ParticipantId | null,
    role: ViewerRole | null,
  ): void {
    conn.role = role;
    if (isStaff(role)) group.staff.add(conn);
    else group.staff.delete(conn);
    if (conn.participantId) {
      const set = group.byParticipant.get(conn.participantId);
      set?.delete(conn);
      if (set?.size === 0) group.byParticipant.delete(conn.participantId);
    }
    conn.participantId = participantId;
    if (participantId) {
      let set = group.byParticipant.get(participantId);
      if (!set) {
        set = new Set();
        group.byParticipant.set(participantId, set);
      }
      set.add(conn);
    }
  }
}

function isStaff(role: ViewerRole | null): boolean {
  return role !== null && role !== "player";
}
