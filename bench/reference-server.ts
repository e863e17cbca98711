/**
 * The reference for `npm run bench -- --reference`: a bare `ws` WebSocketServer in its own
 * process (forked by bench/raw-run.ts, so its CPU is its own) that does nothing but accept
 * connections and, on command, broadcast one ~200-byte text frame to every client. The frame is
 * framed once and the same bytes are written to every socket, as a broadcast
 * that encodes once should (STYLE.md §13); quizwire's fan-out is then reported as a ratio of this
 * one, measured with the same raw clients in the same run.
 *
 * The frame carries `"at"`, the epoch ms (high resolution) at which the broadcast began, and the
 * round number; the clients are on this machine, so no clock offset applies.
 */
import type { Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { type WebSocket, WebSocketServer } from "ws";

export type ToReference =
  | { type: "start" }
  | { type: "broadcast"; round: number }
  | { type: "stats" };

export type FromReference =
  | { type: "listening"; port: number }
  | {
      type: "broadcast-done";
      round: number;
      clients: number;
      /** How long the send loop took (ms): writing the frame to every socket. */
      loopMs: number;
      bytes: number;
    }
  | { type: "stats"; clients: number };

const FRAME_BYTES = 200;

/** The ~200-byte payload of one broadcast round: JSON, padded to FRAME_BYTES. */
export function referencePayload(round: number, at: number): Buffer {
  const head = `{"v":1,"type":"reference","round":${round},"at":${at},"data":{"pad":"`;
  const tail = '"}}';
  const pad = Math.max(0, FRAME_BYTES - head.length - tail.length);
  return Buffer.from(head + "x".repeat(pad) + tail);
}

/** An unmasked server text frame (FIN set) around `payload` (< 64 KiB). */
export function serverTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, n]) : Buffer.from([0x81, 126, n >> 8, n & 0xff]);
  return Buffer.concat([head, payload]);
}

function main(): void {
  if (!process.send) {
    process.stderr.write("bench/reference-server.ts is started by bench/raw-run.ts\n");
    process.exit(2);
  }
  const send = (m: FromReference) => process.send?.(m);
  let wss: WebSocketServer | null = null;
  const clients = new Set<WebSocket>();
  process.on("disconnect", () => process.exit(0));
  process.on("message", (raw: unknown) => {
    const m = raw as ToReference;
    switch (m.type) {
      case "start": {
        if (wss) return;
        const s = new WebSocketServer({
          host: "127.0.0.1",
          port: 0,
          perMessageDeflate: false,
          maxPayload: 64 * 1024,
          backlog: 4096,
        });
        wss = s;
        s.on("connection", (ws) => {
          clients.add(ws);
          ws.on("close", () => clients.delete(ws));
          ws.on("error", () => clients.delete(ws));
        });
        s.on("listening", () => {
          const a = s.address();
          send({ type: "listening", port: typeof a === "object" && a ? a.port : 0 });
        });
        break;
      }
      case "broadcast": {
        const t0 = performance.now();
        const payload = referencePayload(m.round, performance.timeOrigin + t0);
        const frame = serverTextFrame(payload);
        for (const ws of clients) {
          // The socket under `ws`: the frame is already framed, so it goes out as it is.
          const socket = (ws as unknown as { _socket: Socket })._socket;
          socket.write(frame);
        }
        send({
          type: "broadcast-done",
          round: m.round,
          clients: clients.size,
          loopMs: performance.now() - t0,
          bytes: payload.length,
        });
        break;
      }
      case "stats":
        send({ type: "stats", clients: clients.size });
        break;
    }
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
