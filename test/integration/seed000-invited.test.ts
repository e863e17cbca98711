/**
 * Seed 000: "Join by `pin` or `room_id` if invited", as a client written from
 * docs/protocol.md does it: raw frames over `ws`, no SDK. An invitation is the host's
 * `settings.invited` list of user ids; everyone else gets what a room id that is no room gets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataOf, messageIds, rawSockets, userIdOf } from "../support/clients.js";
import { choiceQuestion, quizOf } from "../support/fixtures.js";
import { createTestApp } from "../support/test-app.js";

type TestApp = Awaited<ReturnType<typeof createTestApp>>;
let t: TestApp;
let url: string;
const sockets = rawSockets(() => url);
/** Small, so the last test reaches it; every other test here guesses no room. */
const PIN_GUESSES = 4;

beforeAll(async () => {
  t = await createTestApp(
    {},
    {
      pinGuessLimits: {
        guesses: PIN_GUESSES,
        windowMs: 3_600_000,
        refusalsBeforeBan: 100,
        banMs: 3_600_000,
      },
    },
  );
  const port = await t.app.listen();
  url = `ws://127.0.0.1:${port}/ws/v1`;
  await t.app.storage.quizzes.put(quizOf([choiceQuestion("q1")], "invited-quiz"));
});

afterAll(async () => {
  sockets.closeAll();
  await t.close();
});

const open = sockets.open;

const msgId = messageIds();

async function roomInviting(invited: string[]) {
  const host = await open();
  const created = dataOf(
    await host.request("create_room", msgId("create"), {
      quiz_id: "invited-quiz",
      settings: { invited },
    }),
    "room_created",
  );
  return { host, created };
}

describe("seed 000: join by room_id when invited (R-7)", () => {
  it("R-7: an invited user joins with room_id and a display name, no PIN", async () => {
    const guest = await open();
    const { host, created } = await roomInviting([userIdOf(guest)]);
    const joined = dataOf(
      await guest.request("join", msgId("join"), { display_name: "Guest" }, created.room_id),
      "joined",
    );
    expect(joined).toMatchObject({
      room_id: created.room_id,
      user_id: userIdOf(guest),
      name: "Guest",
      role: "player",
      resumed: false,
    });
    const arrival = await host.next((f) => f.type === "player_joined");
    expect(dataOf(arrival, "player_joined").participant.name).toBe("Guest");
    // A full player: the game reaches them.
    dataOf(await host.request("start", msgId("start")), "ack");
    await guest.next((f) => f.type === "question");
  });

  it("R-7: a user who was not invited gets exactly what a room that does not exist gets, and joins nobody", async () => {
    const { host, created } = await roomInviting(["someone-else"]);
    const stranger = await open();
    const refused = await stranger.request(
      "join",
      msgId("join"),
      { display_name: "Stranger" },
      created.room_id,
    );
    const nowhere = await stranger.request(
      "join",
      msgId("join"),
      { display_name: "Stranger" },
      "0193502c-0000-7000-8000-000000000000",
    );
    const err = dataOf(refused, "error");
    expect(err).toEqual({
      code: "NOT_FOUND",
      msg: "no such open room",
      reason: "no_room",
      retryable: false,
    });
    expect(dataOf(nowhere, "error")).toEqual(err);
    // Nothing changed: nobody joined, and the stranger's connection is in no room.
    const snap = dataOf(await host.request("sync", msgId("sync")), "state");
    expect(snap.player_count).toBe(0);
    const notIn = await stranger.request("sync", msgId("sync"));
    expect(dataOf(notIn, "error")).toMatchObject({ code: "STATE", reason: "not_joined" });
    // Without room_id there is nothing to join.
    const noRoom = await stranger.request("join", msgId("join"), { display_name: "Stranger" });
    expect(dataOf(noRoom, "error")).toMatchObject({ code: "VALIDATION", reason: "bad_data" });
  });

  it("R-7, P-2: refused room ids count as wrong PINs, so room ids cannot be probed", async () => {
    const { created } = await roomInviting([]);
    const codes: string[] = [];
    for (let i = 0; i < PIN_GUESSES + 1; i++) {
      // A new anonymous user each time, from the same address: the PIN limit counts addresses,
      // and no single user reaches the join-attempt limit.
      const prober = await open();
      const f = await prober.request(
        "join",
        msgId("probe"),
        { display_name: "P" },
        created.room_id,
      );
      codes.push(dataOf(f, "error").code);
    }
    // The earlier test spent two of this address's guesses.
    expect(codes).toContain("RATE_LIMIT");
    expect(codes.slice(0, PIN_GUESSES - 2)).toEqual(Array(PIN_GUESSES - 2).fill("NOT_FOUND"));
  });
});
