/**
 * What the host app's screens share: its one socket (an SDK client), the
 * browser storage it keeps games in, the admin token and the server's
 * web config.
 */
import { type ApiOptions, api } from "../lib/api.js";
import type { WebConfig } from "../lib/join.js";
import { adminToken, browserStore, hostIdentity, saveHostIdentity } from "../lib/saved.js";
import { createClient, type QuizwireClient } from "../net/client.js";

export const local = browserStore("local");
/** The admin token lives only as long as the tab's session: it unlocks the whole server. */
export const session = browserStore("session");

let client: QuizwireClient | null = null;

/**
 * The host app's client. One per tab: it hosts (or watches) one room at a
 * time and carries it across screens, so creating a game and opening its
 * console need no reconnect.
 */
export function hostClient(): QuizwireClient {
  if (client && client.status !== "closed") return client;
  const c = createClient({ identityToken: hostIdentity(local) });
  c.on("connected", () => {
    if (c.identityToken) saveHostIdentity(local, c.identityToken);
  });
  client = c;
  return c;
}

/** A separate, read-only client for the big screen (it must not take the host's room away). */
export function screenClient(): QuizwireClient {
  return createClient();
}

/** REST with the admin token this browser session keeps (if any). */
export function adminApi<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  return api<T>(path, { ...opts, token: adminToken(session) });
}

let config: Promise<WebConfig | null> | null = null;

/** GET /web-config.json, once; null if the server has none (the app then uses its own address). */
export function webConfig(): Promise<WebConfig | null> {
  config ??= api<WebConfig>("/web-config.json").catch(() => null);
  return config;
}
