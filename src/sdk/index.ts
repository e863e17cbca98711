/**
 * quizwire client SDK: browser and Node. Node callers pass `WebSocket` from
 * `ws`; browsers use the global one.
 */

export type { ServerData, ServerFrame, ServerType } from "../doors/canonical/protocol.js";
export type { SnapshotView } from "../doors/schemas/views.js";
export { BACKOFF_DEFAULTS, Backoff, type BackoffOptions, backoffDelay } from "./backoff.js";
export {
  type AckData,
  type AnswerInput,
  CANONICAL_PATH,
  CLIENT_RECONNECT_CODE,
  CLOSE_CODES,
  type ClientEventHandler,
  type ClientEventName,
  type ClientEvents,
  type ClientStatus,
  type CreateRoomInput,
  type JoinedData,
  type JoinResult,
  type LifecycleEvents,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type QuestionData,
  QuizwireClient,
  type QuizwireClientOptions,
  type Role,
  type RoomCreated,
  type ScoreData,
  type SeqPosition,
  type WebSocketConstructorLike,
  type WebSocketLike,
  type WelcomeData,
} from "./client.js";
export {
  CLOCK_WINDOW,
  ClockOffsetEstimator,
  type ClockSample,
  clockSample,
} from "./clock-offset.js";
export {
  QuizwireError,
  type QuizwireErrorCode,
  type QuizwireErrorInit,
  type ServerErrorCode,
} from "./errors.js";
