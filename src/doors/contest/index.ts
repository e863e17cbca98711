import type { Door, DoorDeps } from "../door.js";
import { ContestDoor, type ContestLimits, DEFAULT_LIMITS } from "./contest-door.js";
import { registerContestRoutes } from "./contest-routes.js";
import { CLOSE_AFTER_MS } from "./protocol.js";

export interface ContestDoorSettings {
  /** How long after GAME_OVER a contest closes; the mounted door uses CLOSE_AFTER_MS (10 s). */
  closeAfterMs?: number;
  limits?: Partial<ContestLimits>;
}

export { ContestDoor } from "./contest-door.js";

/**
 * The quick-fire contest dialect of seed 004 (docs/protocols/seed-004.md):
 * POST /login, POST /api/contests and the contest WebSocket at /ws/contests/{id}.
 */
export function createContestDoor(
  deps: DoorDeps,
  settings: ContestDoorSettings = {},
): Door & { ws: ContestDoor } {
  const ws = new ContestDoor(deps, {
    closeAfterMs: settings.closeAfterMs ?? CLOSE_AFTER_MS,
    limits: { ...DEFAULT_LIMITS, ...settings.limits },
  });
  return { ws, routes: (app) => registerContestRoutes(app, deps) };
}
