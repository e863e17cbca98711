import { ProtocolError } from "../../domain/errors.js";
import type { Reply } from "../../engine/types.js";

/**
 * A command's value, or its refusal thrown as a ProtocolError (STYLE.md §8:
 * thrown once, turned into the dialect's error frame in one place, the driver).
 */
export function valueOrRefuse<T>(reply: Reply<T>): T {
  if (!reply.ok) throw new ProtocolError(reply.error.code, reply.error.msg, reply.error.reason);
  return reply.value;
}
