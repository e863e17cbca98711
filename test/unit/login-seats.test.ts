import { describe, expect, it } from "vitest";
import { isLoginUserIdOf, loginUserId } from "../../src/auth/login-ids.js";
import { asUserId } from "../../src/domain/ids.js";
import { loginSeat } from "../../src/doors/contest/login-seats.js";

const players = (...ids: string[]) => ids.map((id) => ({ userId: asUserId(id) }));

describe("seed 004 login user ids", () => {
  it("POST /login's id is user_<username>_<unix seconds>", () => {
    expect(loginUserId("alice", 1_795_308_084)).toBe("user_alice_1795308084");
  });

  it("an id belongs to exactly the username it was minted for", () => {
    expect(isLoginUserIdOf("user_alice_1795308084", "alice")).toBe(true);
    expect(isLoginUserIdOf("user_bob_1_1795308084", "bob_1")).toBe(true);
    // The rest after the name must be the seconds alone.
    expect(isLoginUserIdOf("user_bob_1_1795308084", "bob")).toBe(false);
    expect(isLoginUserIdOf("user_alice_", "alice")).toBe(false);
    expect(isLoginUserIdOf("user_alice_12x", "alice")).toBe(false);
    expect(isLoginUserIdOf("user_Alice_1795308084", "alice")).toBe(false);
    expect(isLoginUserIdOf("alice", "alice")).toBe(false);
  });
});

describe("seed 004 login seats", () => {
  const host = asUserId("user_alice_100");

  it("R-1: a later login of the host's username sits in the host's seat", () => {
    expect(loginSeat("alice", host, [])).toBe(host);
  });

  it("a later login of a player's username sits in that player's seat", () => {
    expect(loginSeat("bob", host, players("user_alice_100", "user_bob_101"))).toBe("user_bob_101");
  });

  it("a new username, or a host who did not log in with /login, gives no seat", () => {
    expect(loginSeat("cyd", host, players("user_bob_101"))).toBeNull();
    expect(loginSeat("alice", asUserId("ext-alice"), players("ext-alice"))).toBeNull();
    expect(loginSeat("bob", host, players("user_bob_1_101"))).toBeNull();
  });
});
