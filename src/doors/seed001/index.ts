import type { Door, DoorDeps } from "../door.js";
import { Seed001Door, type Seed001Limits } from "./gateway.js";

export { Seed001Door, type Seed001Limits } from "./gateway.js";

/**
 * The seed 001 / 003 vocabulary-quiz dialect (docs/protocols/seed-001.md): the
 * WebSocket door on `/ws`. Its REST side (sessions and quizzes under /api/v1)
 * is the REST door's, which already speaks seed 001's shapes.
 */
export function createSeed001Door(deps: DoorDeps, limits: Partial<Seed001Limits> = {}): Door {
  return { ws: new Seed001Door(deps, limits) };
}
