import type { Identity } from "../auth/identity.js";
import { type DomainError, fail, ok, type Result } from "../domain/errors.js";
import { asQuizId, type SessionId } from "../domain/ids.js";
import type { Quiz } from "../domain/quiz.js";
import {
  resolveSettings,
  type SessionMode,
  type SessionSettings,
} from "../domain/session-settings.js";
import type { GroupCommitter } from "../engine/group-committer.js";
import type { RoomHandle } from "../engine/room-handle.js";
import { SessionCreateError } from "../engine/room-registry.js";
import type { CreatedHandle, SessionDirectory } from "../engine/session-directory.js";
import type { Clock } from "../ports/clock.js";
import type { SessionBundle, Storage } from "../ports/storage.js";

export interface CreateInput {
  quizId: string;
  mode: SessionMode;
  settings: Partial<Omit<SessionSettings, "mode">>;
  /** Name of the host's own (non-playing) membership; null for a host who plays (seed 004). */
  hostName: string | null;
}

/**
 * What every door needs around sessions that is not a room command: creating
 * them from stored quizzes, finding them, reading them back from storage.
 */
export class SessionService {
  constructor(
    private readonly deps: {
      directory: SessionDirectory;
      storage: Storage;
      clock: Clock;
      publicUrl: string;
      /** Writes this instance has queued and not yet stored. */
      committer: Pick<GroupCommitter, "idle">;
    },
  ) {}

  async create(identity: Identity, input: CreateInput): Promise<Result<CreatedHandle>> {
    const quiz = await this.deps.storage.quizzes.get(asQuizId(input.quizId));
    if (!quiz) return fail("NOT_FOUND", `no quiz with id "${input.quizId}"`, "no_quiz");
    return this.createFromQuiz(identity, quiz, input);
  }

  /** For doors that bring their own questions (seed 002's POST /quizzes, seed 004's contests). */
  async createFromQuiz(
    identity: Identity,
    quiz: Quiz,
    input: Omit<CreateInput, "quizId">,
  ): Promise<Result<CreatedHandle>> {
    const settings = resolveSettings(input.mode, input.settings);
    const invalid = this.checkSettings(settings);
    if (invalid) return { ok: false, error: invalid };
    try {
      return ok(
        await this.deps.directory.create({
          quiz,
          settings,
          hostUserId: identity.userId,
          hostName: input.hostName,
        }),
      );
    } catch (err) {
      if (err instanceof SessionCreateError) return fail(err.code, err.message);
      throw err;
    }
  }

  /** The open session with this id, wherever it runs; undefined when it is not open. */
  find(id: string): Promise<RoomHandle | undefined> {
    return this.deps.directory.find(id);
  }

  findByPin(pin: string): Promise<RoomHandle | undefined> {
    return this.deps.directory.findByPin(pin);
  }

  /** The stored session (open or ended), for results and for sessions no longer in memory. */
  async load(id: string): Promise<SessionBundle | undefined> {
    return this.deps.storage.sessions.load(id as SessionId);
  }

  /**
   * The stored session once every write this instance had queued is stored:
   * read-your-writes for a report read right after the end of a session run here.
   */
  async loadSettled(id: string): Promise<SessionBundle | undefined> {
    await this.deps.committer.idle();
    return this.load(id);
  }

  /** The link a player opens (or scans as a QR code) to join by PIN. */
  joinUrl(pin: string): string {
    return `${this.deps.publicUrl}/play?pin=${pin}`;
  }

  private checkSettings(s: SessionSettings): DomainError | null {
    if (s.closesAt !== null && s.mode !== "self_paced") {
      return {
        code: "VALIDATION",
        msg: "closes_at applies to self_paced sessions only",
        reason: "bad_settings",
      };
    }
    if (s.closesAt !== null && s.closesAt <= this.deps.clock.now()) {
      return { code: "VALIDATION", msg: "closes_at must be in the future", reason: "bad_settings" };
    }
    return null;
  }
}
