import { isLoginUserIdOf } from "../../auth/login-ids.js";
import type { UserId } from "../../domain/ids.js";

/**
 * The seat a seed 004 login token takes in a contest. The seed's pages call
 * POST /login again on every page (the token that created the contest is not
 * the one that opens the game), and each login mints a new user id for the
 * same username; in that dialect the username is the person. So a login
 * token of `loginName` sits in the host's seat when the host logged in under
 * that name, else in the seat of the player who did, else in a new seat
 * (null: its own user id).
 */
export function loginSeat(
  loginName: string,
  hostUserId: UserId,
  players: readonly { userId: UserId }[],
): UserId | null {
  if (isLoginUserIdOf(hostUserId, loginName)) return hostUserId;
  return players.find((p) => isLoginUserIdOf(p.userId, loginName))?.userId ?? null;
}
