import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import { asParticipantId, asSessionId, type SessionId } from "../../src/domain/ids.js";
import {
  type CommitTarget,
  type CommitterOptions,
  type Fence,
  GroupCommitter,
} from "../../src/engine/group-committer.js";
import { OtelTracer } from "../../src/observability/otel-tracer.js";
import { FencedError, type SessionWrite } from "../../src/ports/storage.js";

const S1 = asSessionId("s1");
const S2 = asSessionId("s2");

/** A write the test can name: a `served_put` whose participant id is the label. */
function w(label: string, sessionId: SessionId = S1): SessionWrite {
  return {
    kind: "served_put",
    served: { sessionId, participantId: asParticipantId(label), questionIndex: 0, servedAt: 0 },
  };
}

function labelOf(write: SessionWrite): string {
  if (write.kind !== "served_put") throw new Error(`unexpected ${write.kind}`);
  return write.served.participantId;
}

/**
 * Storage reduced to what the committer sees: it applies a batch whole or not at
 * all and remembers what it applied. It can be down (writes and pings fail), refuse
 * particular writes while up, hold batches until released, and run sessions at a
 * higher epoch than a writer's fence.
 */
class MemoryTarget implements CommitTarget {
  /** Every batch offered, applied or not. */
  readonly attempts: string[][] = [];
  /** Batches applied, in order. */
  readonly applied: string[][] = [];
  readonly fences: Array<Record<string, number>> = [];
  readonly epochs = new Map<SessionId, number>();
  readonly refuses = new Set<string>();
  down = false;
  hold = false;
  pings = 0;
  settleArrived?: () => void;
  private held: Array<() => void> = [];

  async write(batch: readonly SessionWrite[], fences?: ReadonlyMap<SessionId, number>) {
    const labels = batch.map(labelOf);
    this.attempts.push(labels);
    this.fences.push(Object.fromEntries(fences ?? []));
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.down) throw new Error("store unreachable");
    for (const [id, writer] of fences ?? []) {
      const stored = this.epochs.get(id) ?? 0;
      if (stored > writer) throw new FencedError(id, writer, stored);
    }
    const bad = labels.find((l) => this.refuses.has(l));
    if (bad) throw new Error(`constraint violated by ${bad}`);
    this.applied.push(labels);
  }

  async ping() {
    this.pings += 1;
    if (this.down) throw new Error("store unreachable");
  }

  /** Lets held batches go on (to succeed or fail as the store now is). */
  release(): void {
    this.hold = false;
    for (const go of this.held.splice(0)) go();
  }
}

/** Every promise chain the in-memory store started has run (a macrotask comes after all of them). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(opts: Partial<CommitterOptions> = {}) {
  // Manual: nothing deferred runs until the test ends the turn, so a test decides what one turn holds.
  const clock = new FakeClock(0, { deferred: "manual" });
  const store = new MemoryTarget();
  const errors: string[] = [];
  const committer = new GroupCommitter(store, clock, {
    retryDelayMs: (attempt) => 100 * 2 ** attempt,
    onError: (_err, context) => errors.push(context),
    ...opts,
  });
  /** What happened to each write, in the order it happened. */
  const outcomes: string[] = [];
  const failures = new Map<string, unknown>();
  const enqueue = (label: string, critical: boolean, fence?: Fence, sessionId?: SessionId) =>
    committer.enqueue(w(label, sessionId ?? fence?.sessionId), critical, fence).then(
      () => {
        outcomes.push(`stored ${label}`);
      },
      (err: unknown) => {
        outcomes.push(`refused ${label}`);
        failures.set(label, err);
      },
    );
  /** A turn that queues one write and ends: what the turn deferred (its commit) has run. */
  const turnWith = async (label: string, critical = true) => {
    void enqueue(label, critical);
    clock.runDeferred();
    await settled();
  };
  return { clock, store, committer, errors, outcomes, failures, enqueue, turnWith };
}

describe("GroupCommitter", () => {
  it("stores the writes of one turn in one batch, once the turn is over", async () => {
    const { clock, store, outcomes, enqueue } = setup();
    void enqueue("a", true);
    void enqueue("b", false);
    void enqueue("c", true);
    await settled();
    expect(store.attempts).toEqual([]);

    clock.runDeferred();
    await settled();
    expect(store.applied).toEqual([["a", "b", "c"]]);
    expect(outcomes).toEqual(["stored a", "stored b", "stored c"]);
  });

  it("puts writes that arrive while a batch is in flight into the next batch, in order", async () => {
    const { clock, store, outcomes, enqueue } = setup();
    store.hold = true;
    void enqueue("a", true);
    clock.runDeferred();
    await settled();
    expect(store.attempts).toEqual([["a"]]);

    void enqueue("b", true);
    void enqueue("c", false);
    void enqueue("d", true);
    clock.runDeferred();
    await settled();
    expect(store.attempts).toEqual([["a"]]);

    store.release();
    await settled();
    expect(store.applied).toEqual([["a"], ["b", "c", "d"]]);
    expect(outcomes).toEqual(["stored a", "stored b", "stored c", "stored d"]);
  });

  it("cuts the queue into batches of at most maxBatch writes, keeping their order", async () => {
    const { clock, store, enqueue } = setup({ maxBatch: 2 });
    for (const label of ["a", "b", "c", "d", "e"]) void enqueue(label, false);
    clock.runDeferred();
    await settled();
    expect(store.applied).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("with lingerMs, starts at most one batch per interval: the first write after a quiet interval goes at the end of its turn, later ones wait for the interval to end", async () => {
    const { clock, store, outcomes, turnWith } = setup({ lingerMs: 10 });
    await turnWith("a");
    expect(store.applied).toEqual([["a"]]);

    clock.advance(2);
    await turnWith("b");
    clock.advance(3);
    await turnWith("c");
    // Both wait for the interval that "a" started: 10 ms after it, not 10 ms after them.
    expect(store.attempts).toEqual([["a"]]);
    clock.advance(4);
    await settled();
    expect(store.attempts).toEqual([["a"]]);
    clock.advance(1);
    await settled();
    expect(store.applied).toEqual([["a"], ["b", "c"]]);

    // Quiet for longer than the interval: the next write goes at the end of its turn.
    clock.advance(25);
    await turnWith("d", false);
    expect(store.applied).toEqual([["a"], ["b", "c"], ["d"]]);
    expect(outcomes).toEqual(["stored a", "stored b", "stored c", "stored d"]);
  });

  it("with lingerMs, a batch that took longer than the interval is followed at once", async () => {
    const { clock, store, turnWith } = setup({ lingerMs: 10 });
    store.hold = true;
    await turnWith("a");
    clock.advance(15);
    await turnWith("b");
    store.hold = false;
    store.release();
    await settled();
    expect(store.applied).toEqual([["a"], ["b"]]);
  });

  it("with a lingerClock, the linger is measured in its time, not the committer's clock", async () => {
    const linger = new FakeClock(0);
    const { clock, store, enqueue, turnWith } = setup({ lingerMs: 10, lingerClock: linger });
    await turnWith("a");
    void enqueue("b", true);
    clock.runDeferred();
    // The committer's clock moving does nothing for the linger…
    clock.advance(50);
    await settled();
    expect(store.attempts).toEqual([["a"]]);
    // …its own clock does.
    linger.advance(10);
    await settled();
    expect(store.applied).toEqual([["a"], ["b"]]);
  });

  it("starts a batch as soon as startAt writes are queued, without waiting for the end of the turn", async () => {
    const { store, outcomes, enqueue } = setup({ startAt: 3 });
    void enqueue("a", true);
    void enqueue("b", true);
    await settled();
    // Two writes wait for the end of the turn, which this test never ends…
    expect(store.attempts).toEqual([]);
    // …the third fills the batch: it starts once the running code is done, in the same turn.
    void enqueue("c", true);
    void enqueue("d", false);
    expect(store.attempts).toEqual([]);
    await settled();
    expect(store.applied).toEqual([["a", "b", "c", "d"]]);
    expect(outcomes).toEqual(["stored a", "stored b", "stored c", "stored d"]);
  });

  it("by default a batch starts early only once it is full (startAt = maxBatch)", async () => {
    const { clock, store, enqueue } = setup({ maxBatch: 3 });
    void enqueue("a", true);
    void enqueue("b", true);
    await settled();
    expect(store.attempts).toEqual([]);
    void enqueue("c", true);
    await settled();
    expect(store.applied).toEqual([["a", "b", "c"]]);
    void enqueue("d", true);
    await settled();
    expect(store.applied).toEqual([["a", "b", "c"]]);
    clock.runDeferred();
    await settled();
    expect(store.applied).toEqual([["a", "b", "c"], ["d"]]);
  });

  it("asks the store to settle an arrived result for each write queued while a batch is in flight", async () => {
    const { clock, store, enqueue } = setup();
    let asked = 0;
    store.settleArrived = () => {
      asked += 1;
      // What a store does when the result is there: the held batch completes now.
      store.release();
    };
    void enqueue("a", true);
    void enqueue("b", true);
    // Nothing is in flight yet: nothing to settle.
    expect(asked).toBe(0);
    store.hold = true;
    clock.runDeferred();
    await settled();
    expect(store.attempts).toEqual([["a", "b"]]);
    expect(store.applied).toEqual([]);
    void enqueue("c", true);
    expect(asked).toBe(1);
    // The batch's result came in the same turn, and the next batch followed it at once.
    await settled();
    expect(store.applied).toEqual([["a", "b"], ["c"]]);
    // Queued with no batch in flight: not asked.
    void enqueue("d", true);
    expect(asked).toBe(1);
  });

  it("with lingerMs, a batch waiting for the interval starts as soon as startAt writes are queued", async () => {
    const linger = new FakeClock(0);
    const { store, turnWith, enqueue } = setup({ lingerMs: 10, lingerClock: linger, startAt: 2 });
    await turnWith("a");
    linger.advance(3);
    await turnWith("b");
    expect(store.attempts).toEqual([["a"]]);
    void enqueue("c", true);
    await settled();
    expect(store.applied).toEqual([["a"], ["b", "c"]]);
    // The interval's timer was cleared: when it would have ended, nothing is left to start.
    linger.advance(7);
    await settled();
    expect(store.attempts).toEqual([["a"], ["b", "c"]]);
    // The next interval counts from the batch that started early (at 3 ms).
    await turnWith("d");
    linger.advance(2);
    await settled();
    expect(store.attempts).toEqual([["a"], ["b", "c"]]);
    linger.advance(1);
    await settled();
    expect(store.applied).toEqual([["a"], ["b", "c"], ["d"]]);
  });

  it("never fences one session at two epochs in a batch: the batch is split where the epoch changes", async () => {
    const { clock, store, enqueue } = setup();
    void enqueue("a", true, { sessionId: S1, epoch: 1 });
    void enqueue("b", true, { sessionId: S2, epoch: 1 });
    void enqueue("c", true, { sessionId: S1, epoch: 2 });
    void enqueue("d", true, { sessionId: S1, epoch: 2 });
    clock.runDeferred();
    await settled();
    expect(store.applied).toEqual([
      ["a", "b"],
      ["c", "d"],
    ]);
    expect(store.fences).toEqual([{ s1: 1, s2: 1 }, { s1: 2 }]);
  });

  it("on a FencedError refuses only the taken-over session's stale writes and stores the rest at once", async () => {
    const { clock, store, committer, outcomes, failures, enqueue } = setup();
    store.epochs.set(S1, 2); // another instance claimed s1 at epoch 2
    store.hold = true;
    void enqueue("a", true, { sessionId: S1, epoch: 1 });
    void enqueue("b", false, { sessionId: S2, epoch: 1 });
    void enqueue("c", false, { sessionId: S1, epoch: 1 });
    void enqueue("d", false);
    clock.runDeferred();
    await settled();
    // Queued behind the batch: a stale write of s1 and one at its new epoch.
    void enqueue("e", true, { sessionId: S1, epoch: 1 });
    void enqueue("f", true, { sessionId: S1, epoch: 2 });
    store.release();
    await settled();

    expect(store.attempts).toEqual([
      ["a", "b", "c", "d"],
      ["b", "d", "f"],
    ]);
    expect(store.applied).toEqual([["b", "d", "f"]]);
    expect(outcomes).toEqual(["refused e", "refused c", "refused a", ...storedIn("b", "d", "f")]);
    for (const label of ["a", "c", "e"]) expect(failures.get(label)).toBeInstanceOf(FencedError);
    // A takeover is not an outage.
    expect(committer.status().healthy).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it("when the store is down refuses critical writes newest first and retries the others only after the backoff", async () => {
    const { clock, store, committer, outcomes, failures, enqueue } = setup();
    store.down = true;
    store.hold = true;
    void enqueue("n1", false);
    void enqueue("c1", true);
    void enqueue("n2", false);
    void enqueue("c2", true);
    clock.runDeferred();
    await settled();
    // Arrive while the failing batch is in flight.
    void enqueue("c3", true);
    void enqueue("n3", false);
    store.release();
    await settled();

    expect(outcomes).toEqual(["refused c3", "refused c2", "refused c1"]);
    expect((failures.get("c1") as Error).message).toBe("store unreachable");
    expect(committer.status()).toMatchObject({
      healthy: false,
      queued: 3,
      lastError: "store unreachable",
    });

    // The first backoff is 100 ms, and the store is still down when it ends.
    clock.advance(99);
    await settled();
    expect(store.attempts).toHaveLength(1);
    clock.advance(1);
    await settled();
    expect(store.attempts).toEqual([
      ["n1", "c1", "n2", "c2"],
      ["n1", "n2", "n3"],
    ]);

    // The second is 200 ms; meanwhile the store came back and another write arrived.
    store.down = false;
    void enqueue("n4", false);
    clock.advance(199);
    await settled();
    expect(store.attempts).toHaveLength(2);
    clock.advance(1);
    await settled();
    expect(store.applied).toEqual([["n1", "n2", "n3", "n4"]]);
    expect(outcomes.slice(3)).toEqual(storedIn("n1", "n2", "n3", "n4"));
    expect(committer.status()).toMatchObject({ healthy: true, queued: 0, lastError: null });
  });

  it("when the store answers pings but a batch fails, retries the writes one at a time and drops only the bad one", async () => {
    const { clock, store, committer, outcomes, errors, enqueue } = setup();
    store.refuses.add("bad");
    void enqueue("a", false);
    void enqueue("bad", false);
    void enqueue("b", false);
    clock.runDeferred();
    await settled();

    expect(store.attempts).toEqual([["a", "bad", "b"], ["a"], ["bad"], ["b"]]);
    expect(store.applied).toEqual([["a"], ["b"]]);
    expect(outcomes).toEqual(["stored a", "refused bad", "stored b"]);
    expect(errors).toContain("dropped a served_put write that the store refuses");
    // Nothing waited for a backoff: the store was up all along.
    expect(clock.now()).toBe(0);
    expect(committer.status().healthy).toBe(true);
  });

  it("with nothing left to retry, probes the store until it answers, then reports healthy again", async () => {
    const { clock, store, committer, outcomes, enqueue } = setup();
    store.down = true;
    void enqueue("c", true);
    clock.runDeferred();
    await settled();
    expect(outcomes).toEqual(["refused c"]);
    expect(committer.status().healthy).toBe(false);
    // Only the probe is armed, and it would not keep a stopping process alive.
    expect(clock.pending).toBe(1);
    expect(clock.pendingForeground).toBe(0);

    clock.advance(100);
    await settled();
    expect(store.pings).toBe(1);
    expect(committer.status().healthy).toBe(false);

    store.down = false;
    clock.advance(199);
    await settled();
    expect(store.pings).toBe(1);
    clock.advance(1);
    await settled();
    expect(store.pings).toBe(2);
    expect(committer.status()).toMatchObject({ healthy: true, lastError: null });
    expect(clock.pending).toBe(0);
  });

  it("idle() resolves once everything queued so far is written, including writes waiting to be retried", async () => {
    const { clock, store, committer, enqueue } = setup();
    let idle = false;
    await committer.idle(); // nothing queued: at once

    store.hold = true;
    void enqueue("a", false);
    void enqueue("b", false);
    clock.runDeferred();
    await settled();
    // The queue is empty, but its writes are in flight.
    expect(committer.status().queued).toBe(0);
    void committer.idle().then(() => {
      idle = true;
    });
    await settled();
    expect(idle).toBe(false);

    store.down = true;
    store.release();
    await settled();
    expect(idle).toBe(false); // a and b wait for the retry

    store.down = false;
    clock.advance(100);
    await settled();
    expect(store.applied).toEqual([["a", "b"]]);
    expect(idle).toBe(true);
  });
});

function storedIn(...labels: string[]): string[] {
  return labels.map((l) => `stored ${l}`);
}

describe("GroupCommitter with tracing on", () => {
  it("a commit's span hangs under the first traced answer waiting on it and links the others; commits nobody traced waits on make none", async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = OtelTracer.open({
      url: "http://127.0.0.1:1/v1/traces",
      serviceName: "test",
      version: "0",
      instanceId: "i1",
      sampleRatio: 1,
      exporter,
    });
    const { clock, store, enqueue } = setup({ tracer });
    const first = tracer.start("room answer", { parent: null });
    const second = tracer.start("room answer", { parent: null });
    const other = tracer.start("room start", { parent: null });
    // A write nobody waits on does not put the commit in its trace, though it comes first.
    void tracer.within(other, () => enqueue("s", false));
    void tracer.within(first, () => enqueue("a", true));
    void tracer.within(second, () => enqueue("b", true));
    void enqueue("c", false);
    clock.runDeferred();
    await settled();
    // A commit of writes no traced command made (a timer's state write) has no span.
    void enqueue("d", false);
    clock.runDeferred();
    await settled();
    expect(store.applied).toEqual([["s", "a", "b", "c"], ["d"]]);
    first.end();
    second.end();
    other.end();
    await tracer.flush();

    const spans = exporter.getFinishedSpans();
    const commits = spans.filter((s) => s.name === "storage commit");
    expect(commits).toHaveLength(1);
    const [a, b] = spans.filter((s) => s.name === "room answer");
    expect(commits[0]!.parentSpanContext?.spanId).toBe(a!.spanContext().spanId);
    expect(commits[0]!.links.map((l) => l.context.spanId)).toEqual([b!.spanContext().spanId]);
    expect(commits[0]!.attributes["quizwire.writes"]).toBe(4);
    await tracer.shutdown();
  });
});
