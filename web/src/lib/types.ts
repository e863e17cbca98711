/**
 * The server's shapes as the web app uses them. Every one comes from the SDK
 * (and through it from the protocol module), so the app never redefines a
 * message shape.
 */
import type { CreateRoomInput, ServerData, SnapshotView } from "../../../src/sdk/index.js";

export type {
  AnswerInput,
  JoinedData,
  QuestionData,
  ScoreData,
  ServerData,
  SnapshotView,
} from "../../../src/sdk/index.js";

export type StandingView = SnapshotView["leaderboard"][number];
export type ParticipantView = NonNullable<SnapshotView["players"]>[number];
export type QuestionView = NonNullable<SnapshotView["phase"]["question"]>;
export type QuestionKind = QuestionView["kind"];
export type SettingsView = SnapshotView["settings"];
export type SettingsInput = NonNullable<CreateRoomInput["settings"]>;
export type Mode = SnapshotView["mode"];
export type PhaseKind = SnapshotView["phase"]["kind"];
export type CorrectView = ServerData<"reveal">["correct"];
export type EndReason = ServerData<"end">["reason"];
