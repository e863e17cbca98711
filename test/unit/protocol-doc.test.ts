/**
 * Keeps docs/protocol.md and the canonical door's protocol module from drifting apart: every
 * message type has its section, every example is a frame the server would accept (client) or
 * could send (server), and every error code, engine reason and close code is documented.
 */
import { ERROR_CODES } from "../../src/domain/errors.js";
// The door under test: its folder is named on this line and in DOOR below, nowhere else.
import * as door from "../../src/doors/canonical/protocol.js";
import {
  describeProtocolDoc,
  integerIfPresent,
  ROOM_REASON_SOURCES,
  stringIfPresent,
} from "../support/doc-check.js";

const DOOR = "src/doors/canonical";

describeProtocolDoc({
  path: "docs/protocol.md",
  messages: {
    heading: /^`([a-z_]+)`$/,
    client: {
      types: door.CLIENT_TYPES,
      envelope: door.envelopeValidator,
      validators: door.clientValidators,
      body: "data",
      absentBody: {},
      bodyShown: true,
    },
    server: {
      types: door.SERVER_TYPES,
      validators: door.serverValidators,
      body: "data",
      keys: ["v", "type", "msg_id", "room_id", "epoch", "seq", "at", "data"],
      rules: [
        (f) => (f.v === door.PROTOCOL_VERSION ? undefined : `v is ${String(f.v)}`),
        stringIfPresent("msg_id"),
        stringIfPresent("room_id"),
        integerIfPresent("epoch"),
        integerIfPresent("seq"),
        integerIfPresent("at"),
        (f) =>
          (f.epoch === undefined) === (f.seq === undefined)
            ? undefined
            : "epoch and seq go together",
      ],
    },
  },
  closeCodes: { at: ["Overview", "Close codes"], codes: door.CLOSE_CODES },
  errors: {
    at: ["Errors"],
    codes: Object.keys(ERROR_CODES),
    reasons: {
      sources: [
        ...ROOM_REASON_SOURCES,
        "src/services/session-service.ts",
        `${DOOR}/canonical-door.ts`,
        `${DOOR}/protocol.ts`,
      ],
      known: ["room_ended", "too_late", "not_host", "invalid_name", "storage_unavailable"],
    },
  },
  mentions: ["`/ws/v1`"],
});
