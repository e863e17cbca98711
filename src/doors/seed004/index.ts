import type { Door, DoorDeps } from "../door.js";

/** The seed 004 dialect: mounted by the server, filled in by its own module files. */
export function createSeed004Door(_deps: DoorDeps): Door {
  return {};
}
