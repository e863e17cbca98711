import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { type App, type AppOptions, createApp } from "../../src/server/app.js";

export interface TestApp {
  app: App;
  /** The fresh temporary directory holding this app's SQLite database. */
  dataDir: string;
  /** Closes the app (idempotent) and removes its data directory. */
  close(): Promise<void>;
}

/**
 * A real, fully composed app on a fresh temporary SQLite database, not
 * listening (use `app.fastify.inject`, or `app.listen()` for sockets).
 * `env` overrides the environment the config is loaded from (e.g.
 * `{ ADMIN_TOKEN: "…", JWT_SECRET: "…" }`); `options` passes a clock, a random
 * source or canonical limits through to createApp.
 */
export async function createTestApp(
  env: Record<string, string | undefined> = {},
  options: Omit<AppOptions, "config"> = {},
): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), "quizwire-test-"));
  let app: App;
  try {
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      // Load shedding answers the machine's load, not the test's: off unless a test turns it on.
      EVENT_LOOP_LAG_LIMIT_MS: "0",
      ...env,
    });
    app = await createApp({ ...options, config });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    app,
    dataDir,
    async close() {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
