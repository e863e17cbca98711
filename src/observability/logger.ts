import { type DestinationStream, type Logger, pino } from "pino";
import type { Config } from "../config.js";

/**
 * Pino's levels as the severity words Cloud Logging reads (its LogSeverity
 * names) and Loki's level detection understands.
 */
const SEVERITY: Readonly<Record<string, string>> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

export interface LoggerOptions {
  level: Config["logLevel"];
  /** The trace id of the span current where a line is written (tracing on); lines carry it as `trace_id`. */
  traceId?: () => string | undefined;
  /** Where lines go; stdout unless given (tests capture them). */
  destination?: DestinationStream;
}

/**
 * The server's logger: one JSON object per line with `severity` as a word
 * (`"severity":"INFO"`), the text under `message` and an ISO `time`, so Cloud
 * Logging and Loki read it without a parser; with tracing on, `trace_id` joins
 * every line written inside a traced operation. Without tracing nothing is
 * added per line.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const traceId = opts.traceId;
  return pino(
    {
      level: opts.level,
      messageKey: "message",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? label.toUpperCase() }),
      },
      ...(traceId
        ? {
            mixin: () => {
              const id = traceId();
              return id === undefined ? {} : { trace_id: id };
            },
          }
        : {}),
    },
    opts.destination,
  );
}
