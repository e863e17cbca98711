import type { SessionId } from "../../domain/ids.js";
import type { PinDirectory } from "../../ports/cluster.js";

/** PINs of the rooms this process holds. */
export class MemoryPinDirectory implements PinDirectory {
  private readonly pins = new Map<string, SessionId>();

  async reserve(pin: string, sessionId: SessionId): Promise<boolean> {
    const holder = this.pins.get(pin);
    if (holder !== undefined && holder !== sessionId) return false;
    this.pins.set(pin, sessionId);
    return true;
  }

  async release(pin: string, sessionId: SessionId): Promise<void> {
    if (this.pins.get(pin) === sessionId) this.pins.delete(pin);
  }

  async lookup(pin: string): Promise<SessionId | undefined> {
    return this.pins.get(pin);
  }
}
