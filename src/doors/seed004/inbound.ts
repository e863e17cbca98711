import type { RawData } from "ws";
import { frameBytes, frameText } from "../ws-kit/frames.js";
import {
  type ClientMessage,
  type ClientType,
  clientValidators,
  envelopeValidator,
  isClientType,
} from "./protocol.js";

export type Decoded =
  | { ok: true; type: ClientType; message: ClientMessage }
  | { ok: false; message: string; reason: string };

/**
 * Turns one client frame into a checked message: text, size, JSON, a `type`
 * this door knows, then that type's schema. The first failure is reported.
 */
export function decodeClientFrame(data: RawData, isBinary: boolean, maxBytes: number): Decoded {
  if (isBinary) return { ok: false, message: "binary frames are not accepted", reason: "bad_json" };
  const size = frameBytes(data);
  if (size > maxBytes) {
    return {
      ok: false,
      message: `frame of ${size} bytes exceeds the ${maxBytes}-byte limit`,
      reason: "frame_too_large",
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(frameText(data));
  } catch {
    return { ok: false, message: "frame is not valid JSON", reason: "bad_json" };
  }
  if (!envelopeValidator.Check(value) || Array.isArray(value)) {
    return {
      ok: false,
      message: 'a message is a JSON object with a string "type"',
      reason: "bad_message",
    };
  }
  const type = value.type;
  if (!isClientType(type)) {
    return { ok: false, message: `unknown message type "${type}"`, reason: "unknown_type" };
  }
  const validator = clientValidators[type];
  if (!validator.Check(value)) {
    const first = validator.Errors(value)[0];
    const where = first ? `${first.instancePath.slice(1) || "message"} ${first.message}` : "";
    return { ok: false, message: `invalid ${type}: ${where}`.trim(), reason: "bad_data" };
  }
  return { ok: true, type, message: value as ClientMessage };
}
