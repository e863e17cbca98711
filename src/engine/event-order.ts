/**
 * Where something stands in a session's history. Every room event and every
 * snapshot carries its (epoch, seq): the epoch goes up when another instance
 * (or a restart) takes the session over, the sequence number counts events
 * within an epoch. Doors compare marks to drop what a client already has.
 */
export interface EventMark {
  readonly epoch: number;
  readonly seq: number;
}

/** Before every event of every session. */
export const ORIGIN: EventMark = { epoch: 0, seq: 0 };

/** Whether `a` comes after `b` in the session's history. */
export function isAfter(a: EventMark, b: EventMark): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.seq > b.seq);
}

/** The mark of an event or snapshot, without the rest of it. */
export function markOf(x: EventMark): EventMark {
  return { epoch: x.epoch, seq: x.seq };
}

/** The later of two marks. */
export function latest(a: EventMark, b: EventMark): EventMark {
  return isAfter(b, a) ? b : a;
}
