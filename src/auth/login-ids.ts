/**
 * Seed 004's development login names its users `user_<username>_<unix seconds>`
 * (docs/protocols/seed-004.md, POST /login), so every login of one name mints a
 * new user id. This module is the one place that knows that shape.
 */

const SECONDS = /^\d+$/;

/** The user id POST /login mints for `username` at `unixSeconds`. */
export function loginUserId(username: string, unixSeconds: number): string {
  return `user_${username}_${unixSeconds}`;
}

/**
 * Whether `userId` is one POST /login minted for exactly `username` (any second).
 * Exact: `user_bob_1_17…` belongs to `bob_1`, never to `bob`, because the part
 * after the username must be the seconds alone.
 */
export function isLoginUserIdOf(userId: string, username: string): boolean {
  const prefix = `user_${username}_`;
  return userId.startsWith(prefix) && SECONDS.test(userId.slice(prefix.length));
}
