/**
 * Every socket the app opens is an SDK client (src/sdk): it reconnects with
 * backoff, resumes its room with the latest token, and estimates the
 * server's clock.
 */
import { QuizwireClient } from "../../../src/sdk/index.js";

export { QuizwireError } from "../../../src/sdk/index.js";
export { QuizwireClient };

/** ws(s)://<this page's host>/ws/v1 */
export function socketUrl(loc: Pick<Location, "protocol" | "host"> = location): string {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws/v1`;
}

export interface ClientOptions {
  identityToken?: string | null;
}

/** A client for this page's server. Reconnects quickly at first, then at most every 5 s. */
export function createClient(opts: ClientOptions = {}): QuizwireClient {
  return new QuizwireClient({
    url: socketUrl(),
    ...(opts.identityToken ? { identityToken: opts.identityToken } : {}),
    reconnect: { initialDelayMs: 300, maxDelayMs: 5_000 },
    requestTimeoutMs: 10_000,
    onError: (e) => console.warn("quizwire:", e),
  });
}
