import type { Door, DoorDeps } from "../door.js";
import { registerSeed002Routes } from "./routes.js";
import { Seed002Stream } from "./stream-gateway.js";

/**
 * The seed 002 dialect (docs/protocols/seed-002.md): a read-only leaderboard
 * stream at `/quizzes/{quizId}/ws` and the REST family around it, where a
 * "quiz" is a running session.
 */
export function createSeed002Door(deps: DoorDeps): Door {
  return {
    ws: new Seed002Stream(deps),
    routes: (app) => registerSeed002Routes(app, deps),
  };
}
