import type { DoorSocket, SocketEvents } from "../../src/doors/ws-kit/socket.js";

/**
 * A hand-delivered socket for driving a door without a network (STYLE.md §10,
 * tldraw's TestSocketPair): the test sends client frames through `events`,
 * reads what the door sent in `sent`, and decides how far behind the client is.
 */
export class FakeSocket implements DoorSocket {
  /** Every text frame the door sent, in order. */
  readonly sent: string[] = [];
  /** For each frame in `sent`, whether it was sent as a reply (socket.ts). */
  readonly asReply: boolean[] = [];
  /** For each frame in `sent`, whether it was sent as one that may wait (socket.ts). */
  readonly mayWait: boolean[] = [];
  /** Pieces the door queued (a call of `send`, `sendSpliced` or `sendAll`): a transport's writes of a turn. */
  pieces = 0;
  closedWith: { code: number; reason: string } | null = null;
  bufferedAmount = 0;
  private events: SocketEvents | null = null;

  get isOpen(): boolean {
    return this.closedWith === null;
  }

  send(frame: string | Buffer, reply = false, mayWait = false): void {
    this.pieces += 1;
    this.record(frame, reply, mayWait);
  }

  private record(frame: string | Buffer, reply: boolean, mayWait: boolean): void {
    if (!this.isOpen) throw new Error("send on a closed socket");
    this.sent.push(typeof frame === "string" ? frame : frame.toString("utf8"));
    this.asReply.push(reply);
    this.mayWait.push(mayWait);
  }

  sendSpliced(
    before: Buffer,
    part: string | Buffer,
    after: Buffer,
    reply = false,
    lead: readonly Buffer[] = [],
  ): void {
    this.pieces += 1;
    for (const p of lead) this.record(p, reply, false);
    const own = typeof part === "string" ? part : part.toString("utf8");
    this.record(`${before.toString("utf8")}${own}${after.toString("utf8")}`, reply, false);
  }

  /** Frames sent together are recorded one by one, as the client reads them. */
  sendAll(payloads: readonly Buffer[]): void {
    this.pieces += 1;
    for (const p of payloads) this.record(p, false, false);
  }

  /** Frames a batch sends are recorded one by one, as the client reads them. */
  batch(fn: () => void): void {
    fn();
  }

  /** The door closes: the transport would report the close right after the handshake. */
  close(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.closedWith = { code, reason };
    this.events?.onClose();
  }

  /** Where the door wants this socket's frames and close: what its `open` returned. */
  attach(events: SocketEvents): this {
    this.events = events;
    return this;
  }

  /** A frame from the client (raw bytes as given: a Buffer may hold invalid UTF-8). */
  receive(frame: string | object | Buffer, isBinary = false): void {
    const bytes = Buffer.isBuffer(frame)
      ? frame
      : Buffer.from(typeof frame === "string" ? frame : JSON.stringify(frame));
    this.events?.onMessage(bytes, isBinary);
  }

  /** The client goes away. */
  hangUp(): void {
    if (!this.isOpen) return;
    this.closedWith = { code: 1006, reason: "" };
    this.events?.onClose();
  }

  /** The frames sent so far, parsed. */
  frames<T = Record<string, unknown>>(): T[] {
    return this.sent.map((f) => JSON.parse(f) as T);
  }

  /** The `type`s of the frames sent so far. */
  types(): string[] {
    return this.frames<{ type: string }>().map((f) => f.type);
  }
}
