import type { Door, DoorDeps } from "../door.js";

/** The seed 002 dialect: mounted by the server, filled in by its own module files. */
export function createSeed002Door(_deps: DoorDeps): Door {
  return {};
}
