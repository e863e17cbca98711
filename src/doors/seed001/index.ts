import type { Door, DoorDeps } from "../door.js";

/** The seed 001 dialect: mounted by the server, filled in by its own module files. */
export function createSeed001Door(_deps: DoorDeps): Door {
  return {};
}
