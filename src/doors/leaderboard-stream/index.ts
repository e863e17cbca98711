import type { Door, DoorDeps } from "../door.js";
import { registerSeed002Routes } from "./routes.js";
import { LeaderboardStreamDoor } from "./stream-door.js";

export { LeaderboardStreamDoor } from "./stream-door.js";

/**
 * The leaderboard-stream dialect of seed 002 (docs/protocols/seed-002.md): a
 * read-only leaderboard stream at `/quizzes/{quizId}/ws` and the REST family
 * around it, where a "quiz" is a running session.
 */
export function createLeaderboardStreamDoor(deps: DoorDeps): Door & { ws: LeaderboardStreamDoor } {
  return {
    ws: new LeaderboardStreamDoor(deps),
    routes: (app) => registerSeed002Routes(app, deps),
  };
}
