import type { Door, DoorDeps } from "../door.js";
import { VocabularyDoor, type VocabularyLimits } from "./vocabulary-door.js";

export { VocabularyDoor, type VocabularyLimits } from "./vocabulary-door.js";

/**
 * The seed 001 / 003 vocabulary-quiz dialect (docs/protocols/seed-001.md): the
 * WebSocket door on `/ws`. Its REST side (sessions and quizzes under /api/v1)
 * is the REST door's, which already speaks seed 001's shapes.
 */
export function createVocabularyDoor(
  deps: DoorDeps,
  limits: Partial<VocabularyLimits> = {},
): Door & { ws: VocabularyDoor } {
  return { ws: new VocabularyDoor(deps, limits) };
}
