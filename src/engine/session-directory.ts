import type { ParticipantId } from "../domain/ids.js";
import type { RoomHandle } from "./room-handle.js";
import type { CreateSessionInput, RoomRegistry } from "./room-registry.js";

export interface CreatedHandle {
  handle: RoomHandle;
  hostParticipantId: ParticipantId | null;
  hostToken: string | null;
}

export interface DirectoryStatus {
  /** "none" without Redis; "up"/"down" for the cluster bus. */
  cluster: "none" | "up" | "down";
  /** Sessions this instance runs. */
  owned: number;
}

/**
 * Where sessions are found, wherever they run. One instance: every open session
 * is in this process. Several instances: a session runs on its owner and other
 * instances get a handle that forwards to it (src/engine/cluster/).
 */
export interface SessionDirectory {
  /** The open session with this id, or undefined (unknown, ended and unloaded). */
  find(id: string): Promise<RoomHandle | undefined>;
  findByPin(pin: string): Promise<RoomHandle | undefined>;
  create(input: CreateSessionInput): Promise<CreatedHandle>;
  status(): DirectoryStatus;
  /** Starts background work (lease renewal, takeovers); resolves once ready. */
  start(): Promise<void>;
  /** Hands owned sessions over and stops background work (graceful shutdown). */
  stop(): Promise<void>;
}

/** Every session in this process: the registry is the directory. */
export class LocalDirectory implements SessionDirectory {
  constructor(private readonly registry: RoomRegistry) {}

  async find(id: string): Promise<RoomHandle | undefined> {
    return this.registry.get(id);
  }

  async findByPin(pin: string): Promise<RoomHandle | undefined> {
    return this.registry.findByPin(pin);
  }

  async create(input: CreateSessionInput): Promise<CreatedHandle> {
    const created = await this.registry.create(input);
    return {
      handle: created.runtime,
      hostParticipantId: created.hostParticipantId,
      hostToken: created.hostToken,
    };
  }

  status(): DirectoryStatus {
    return { cluster: "none", owned: this.registry.size };
  }

  async start(): Promise<void> {
    await this.registry.resumeOpen();
  }

  async stop(): Promise<void> {
    await this.registry.shutdown();
  }
}
