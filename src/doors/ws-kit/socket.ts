/**
 * What the door driver needs of a client socket: three members, so a dialect
 * can be driven in a unit test by a hand-delivered fake (STYLE.md §1, tldraw's
 * `TLRoomSocket`). The `ws` library lives only behind this, in `ws-transport.ts`.
 */
export interface DoorSocket {
  /**
   * Queues one text frame. `reply`: made for this client alone (a reply, its own state), not
   * one recipient's share of a room's broadcast: it goes out with this turn's writes even
   * when earlier frames still wait for a later slice of a big broadcast (they go with it).
   * `mayWait`: news a screen may get a few milliseconds late (a host's `player_joined`), so
   * that many share one write (`WAIT_MS` in turn-writes.ts); a later frame that may not wait
   * takes it along.
   */
  send(frame: string | Buffer, reply?: boolean, mayWait?: boolean): void;
  /**
   * Queues one text frame made of `before`, `part` (text, or its UTF-8 bytes) and `after`, without
   * joining them first; `reply` as for `send`. `lead`: frames of a room's broadcasts that go
   * before it, in the same piece (as `sendAll` queues them).
   */
  sendSpliced(
    before: Buffer,
    part: string | Buffer,
    after: Buffer,
    reply?: boolean,
    lead?: readonly Buffer[],
  ): void;
  /**
   * Queues several text frames of a room's broadcasts, in order, as one piece: the same array
   * handed to many sockets (a room step's broadcasts) is framed and joined once for all of them.
   */
  sendAll(payloads: readonly Buffer[]): void;
  /**
   * Runs `fn`; what it sends goes to the network in one write (a reply's
   * frames and the events held for it), not one system call per frame.
   */
  batch(fn: () => void): void;
  /** Starts the closing handshake; the transport reports the close when it is done. */
  close(code: number, reason: string): void;
  /** Bytes queued and not yet written to the network: how far behind the client is. */
  readonly bufferedAmount: number;
  /** False once the socket is closing or closed: nothing more can be sent. */
  readonly isOpen: boolean;
}

/** What a transport tells the driver about one socket it accepted. */
export interface SocketEvents {
  /** One complete client frame. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** The socket closed (either side); called once. */
  onClose(): void;
}
