import { type Config, ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./observability/logger.js";
import { createApp } from "./server/app.js";
import { warmUp } from "./server/warm-up.js";

/** Entry point: configuration from the environment, then serve until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`quizwire: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (config.warmUpPlayers > 0) await warmUpFirst(config);
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp({ config });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`quizwire: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const port = await app.listen();
  app.log.info(
    { port, dataDir: config.dataDir },
    `quizwire listening on http://localhost:${port} (data in ${config.dataDir})`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down");
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** Plays the warm-up game (`server/warm-up.ts`); a failure is logged, and the server starts cold. */
async function warmUpFirst(config: Config): Promise<void> {
  const log = createLogger({ level: config.logLevel });
  try {
    const w = await warmUp(config, config.warmUpPlayers, log);
    log.info(
      { warmUp: w },
      `warmed up: a ${w.questions}-question game of ${w.players} players (${w.answers} answers${w.instances > 1 ? `, on ${w.instances} private instances` : ""}) in ${Math.round(w.ms)} ms`,
    );
  } catch (err) {
    log.warn({ err }, "the warm-up game failed; starting cold");
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `quizwire: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
