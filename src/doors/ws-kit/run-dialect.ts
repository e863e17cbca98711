import type { OriginPolicy } from "../origin-policy.js";
import type { Dialect } from "./dialect.js";
import { DoorDriver, type DriverOptions } from "./driver.js";
import { WsTransport, type WsTransportOptions } from "./ws-transport.js";

/** What a door gives to have its dialect run: the driver's and the transport's needs in one. */
export interface DialectSetup extends DriverOptions {
  origins: OriginPolicy;
  /** What an admission that fails (throws) is logged as. */
  failure: string;
  /** Writes a refusal; a plain HTTP response unless the door counts it first. */
  refuse?: WsTransportOptions["refuse"];
}

/**
 * A dialect put to work: the driver running its pipeline, and the `ws`
 * transport its upgrades and sockets come through.
 */
export function runDialect<S, M extends { type: string }>(
  dialect: Dialect<S, M>,
  setup: DialectSetup,
): { driver: DoorDriver<S, M>; transport: WsTransport } {
  const driver = new DoorDriver(dialect, setup);
  const transport = new WsTransport({
    maxPayload: setup.limits.hardMaxFrameBytes,
    heartbeatMs: setup.limits.heartbeatMs,
    heartbeatTimeoutCode: dialect.closeCodes.heartbeatTimeout,
    origins: setup.origins,
    log: setup.log,
    failure: setup.failure,
    ...(setup.refuse ? { refuse: setup.refuse } : {}),
    observer: driver.metrics,
    ...(setup.tracer ? { tracer: setup.tracer } : {}),
    door: dialect.name,
  });
  return { driver, transport };
}
