import type { Duplex } from "node:stream";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  410: "Gone",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * Refuses an upgrade with a plain HTTP response before any WebSocket exists.
 * The body reads "WebSocket upgrade failed: <message>" (seed 002's wording).
 */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = `WebSocket upgrade failed: ${message}`;
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n` +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      extra +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}

/** The bearer token of an upgrade request: `?token=` (browsers cannot set headers) or `Authorization`. */
export function upgradeToken(req: {
  url?: string | undefined;
  headers: { authorization?: string | undefined };
}): string | null {
  const url = new URL(req.url ?? "/", "http://localhost");
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? null;
  return url.searchParams.get("token") ?? bearer;
}
