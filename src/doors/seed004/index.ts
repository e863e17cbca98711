import type { Door, DoorDeps } from "../door.js";
import { registerContestRoutes } from "./contest-routes.js";
import { DEFAULT_LIMITS, Seed004Gateway, type Seed004Limits } from "./gateway.js";
import { CLOSE_AFTER_MS } from "./protocol.js";

export interface Seed004DoorOptions {
  /** How long after GAME_OVER a contest closes; the mounted door uses CLOSE_AFTER_MS (10 s). */
  closeAfterMs?: number;
  limits?: Partial<Seed004Limits>;
}

/**
 * The seed 004 dialect (docs/protocols/seed-004.md): POST /login, POST
 * /api/contests and the contest WebSocket at /ws/contests/{id}.
 */
export function createSeed004Door(deps: DoorDeps, options: Seed004DoorOptions = {}): Door {
  const ws = new Seed004Gateway(deps, {
    closeAfterMs: options.closeAfterMs ?? CLOSE_AFTER_MS,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  });
  return { ws, routes: (app) => registerContestRoutes(app, deps) };
}
