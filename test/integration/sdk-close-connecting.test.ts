import net from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { QuizwireClient, type QuizwireClientOptions } from "../../src/sdk/index.js";

/**
 * Node's `ws` emits an error when a socket that is still connecting is closed. A client closed
 * then (a test's teardown, an app shutting down while the SDK reconnects) must not leave that
 * error without a listener: an EventEmitter throws it, and the process sees an uncaught exception.
 */
describe("SDK client: close() while its socket is still connecting", () => {
  let server: net.Server | null = null;
  const accepted: net.Socket[] = [];

  afterEach(async () => {
    for (const s of accepted) s.destroy();
    accepted.length = 0;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  it("rejects the pending connect with CLOSED and raises no error afterwards", async () => {
    // Accepts the TCP connection and never answers the upgrade: the WebSocket stays CONNECTING.
    server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    const client = new QuizwireClient({
      url: `ws://127.0.0.1:${port}/ws/v1`,
      WebSocket: WebSocket as unknown as QuizwireClientOptions["WebSocket"],
      reconnect: false,
    });
    const connecting = client.connect();
    await vi.waitFor(() => expect(accepted).toHaveLength(1));

    client.close();

    await expect(connecting).rejects.toMatchObject({ code: "CLOSED" });
    // `ws` emits its error on a later tick; give it several before the test ends.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  });
});
