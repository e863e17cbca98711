/**
 * A room's leaderboard: an order-statistic AVL tree (rules L-1, L-2, L-4).
 *
 * Entries are ordered by score descending, then tieBreak ascending, then id
 * ascending by plain string comparison (`<`), so every entry has a unique
 * rank. The engine chooses the tieBreak: the sequence number of the answer
 * that reached the current score, or the join sequence for a zero score
 * (L-2). Every node carries its subtree size, which makes rank and
 * rank-to-entry lookups O(log n); a Map from id to node makes id lookups O(1).
 *
 * The tree is deterministic (no randomness) and allocates only when a new id
 * is inserted: moving an existing id re-links the same node.
 */

/** One ranked row of a leaderboard. */
export interface LeaderboardEntry<Id extends string = string> {
  id: Id;
  score: number;
  tieBreak: number;
  /** 1-based rank; unique (L-1). */
  rank: number;
}

class LeaderboardNode<Id extends string> {
  readonly id: Id;
  score: number;
  tieBreak: number;
  left: LeaderboardNode<Id> | null = null;
  right: LeaderboardNode<Id> | null = null;
  height = 1;
  size = 1;

  constructor(id: Id, score: number, tieBreak: number) {
    this.id = id;
    this.score = score;
    this.tieBreak = tieBreak;
  }
}

type Node<Id extends string> = LeaderboardNode<Id>;

/** True when `a` ranks before `b`. Keys are unique because ids are. */
function precedes<Id extends string>(a: Node<Id>, b: Node<Id>): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (a.tieBreak !== b.tieBreak) return a.tieBreak < b.tieBreak;
  return a.id < b.id;
}

function heightOf<Id extends string>(n: Node<Id> | null): number {
  return n === null ? 0 : n.height;
}

function sizeOf<Id extends string>(n: Node<Id> | null): number {
  return n === null ? 0 : n.size;
}

function refresh<Id extends string>(n: Node<Id>): void {
  n.height = Math.max(heightOf(n.left), heightOf(n.right)) + 1;
  n.size = sizeOf(n.left) + sizeOf(n.right) + 1;
}

function rotateRight<Id extends string>(n: Node<Id>): Node<Id> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  refresh(n);
  refresh(l);
  return l;
}

function rotateLeft<Id extends string>(n: Node<Id>): Node<Id> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  refresh(n);
  refresh(r);
  return r;
}

/** Restores the AVL invariant at `n` (children already balanced) and returns the subtree's new root. */
function rebalance<Id extends string>(n: Node<Id>): Node<Id> {
  refresh(n);
  const balance = heightOf(n.left) - heightOf(n.right);
  if (balance > 1) {
    const l = n.left!;
    if (heightOf(l.left) < heightOf(l.right)) n.left = rotateLeft(l);
    return rotateRight(n);
  }
  if (balance < -1) {
    const r = n.right!;
    if (heightOf(r.right) < heightOf(r.left)) n.right = rotateRight(r);
    return rotateLeft(n);
  }
  return n;
}

function entryOf<Id extends string>(n: Node<Id>, rank: number): LeaderboardEntry<Id> {
  return { id: n.id, score: n.score, tieBreak: n.tieBreak, rank };
}

/**
 * Ranked scores of one room. `Id` lets callers keep a branded id type
 * (e.g. `Leaderboard<ParticipantId>`); it defaults to `string`.
 *
 * Complexity (L-4): `set`, `delete`, `rank`, `at` are O(log n); `has`, `get`
 * are O(1); `top(n)` is O(n + log size) and `range(from, count)` is
 * O(count + log size).
 */
export class Leaderboard<Id extends string = string> implements Iterable<LeaderboardEntry<Id>> {
  /**
   * Diagnostics for tests and benchmarks, not part of the ranking contract:
   * `visits` counts tree nodes touched by `set`, `delete`, `rank`, `at`,
   * `range` and `top`. Callers may reset it to 0.
   */
  readonly stats = { visits: 0 };

  private root: Node<Id> | null = null;
  private readonly nodes = new Map<Id, Node<Id>>();
  /** The node `removeMin` detached; a field so that deletion needs no tuple allocation. */
  private detached: Node<Id> | null = null;
  /** Bumped on every change so that `entries()` can refuse to continue over a modified tree. */
  private version = 0;
  /** Reused by `range`, which is synchronous; `entries()` keeps its own stack. */
  private readonly scratch: Node<Id>[] = [];

  /** Number of ranked entries. */
  get size(): number {
    return this.nodes.size;
  }

  /**
   * Inserts `id`, or moves it to its new key. A no-op when the key is unchanged.
   * @throws RangeError when `score` or `tieBreak` is not a finite number.
   */
  set(id: Id, score: number, tieBreak: number): void {
    if (!Number.isFinite(score) || !Number.isFinite(tieBreak)) {
      throw new RangeError(`leaderboard key must be finite: score=${score}, tieBreak=${tieBreak}`);
    }
    let node = this.nodes.get(id);
    if (node === undefined) {
      node = new LeaderboardNode(id, score, tieBreak);
      this.nodes.set(id, node);
    } else {
      if (node.score === score && node.tieBreak === tieBreak) return;
      // Remove under the old key, then re-insert the same node under the new one.
      this.root = this.removeFrom(this.root!, node);
      node.score = score;
      node.tieBreak = tieBreak;
      node.left = null;
      node.right = null;
      node.height = 1;
      node.size = 1;
    }
    this.root = this.insertInto(this.root, node);
    this.version++;
  }

  /** Removes `id`; returns whether it was present. */
  delete(id: Id): boolean {
    const node = this.nodes.get(id);
    if (node === undefined) return false;
    this.root = this.removeFrom(this.root!, node);
    this.nodes.delete(id);
    node.left = null;
    node.right = null;
    this.version++;
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.root = null;
    this.nodes.clear();
    this.version++;
  }

  has(id: Id): boolean {
    return this.nodes.has(id);
  }

  /** The key of `id`, or undefined when it is not ranked. */
  get(id: Id): { score: number; tieBreak: number } | undefined {
    const node = this.nodes.get(id);
    return node === undefined ? undefined : { score: node.score, tieBreak: node.tieBreak };
  }

  /** 1-based rank of `id`, or undefined when it is not ranked. */
  rank(id: Id): number | undefined {
    const node = this.nodes.get(id);
    if (node === undefined) return undefined;
    let before = 0;
    let t = this.root!;
    while (t !== node) {
      this.stats.visits++;
      if (precedes(node, t)) {
        t = t.left!;
      } else {
        before += sizeOf(t.left) + 1;
        t = t.right!;
      }
    }
    this.stats.visits++;
    return before + sizeOf(node.left) + 1;
  }

  /** The entry at 1-based `rank`, or undefined when there is none (including non-integer ranks). */
  at(rank: number): LeaderboardEntry<Id> | undefined {
    if (!Number.isInteger(rank) || rank < 1 || rank > this.nodes.size) return undefined;
    let k = rank;
    let t = this.root;
    while (t !== null) {
      this.stats.visits++;
      const leftSize = sizeOf(t.left);
      if (k <= leftSize) {
        t = t.left;
      } else if (k === leftSize + 1) {
        return entryOf(t, rank);
      } else {
        k -= leftSize + 1;
        t = t.right;
      }
    }
    return undefined;
  }

  /**
   * The first `n` entries in rank order (fewer when the board is smaller).
   * @throws RangeError when `n` is not an integer.
   */
  top(n: number): LeaderboardEntry<Id>[] {
    return this.range(1, n);
  }

  /**
   * The entries ranked `fromRank` … `fromRank + count - 1` that exist, in rank
   * order: a page past the end is empty, a count past the end is cut short.
   * @throws RangeError when `fromRank` or `count` is not an integer.
   */
  range(fromRank: number, count: number): LeaderboardEntry<Id>[] {
    if (!Number.isInteger(fromRank) || !Number.isInteger(count)) {
      throw new RangeError(`range needs integers: fromRank=${fromRank}, count=${count}`);
    }
    const first = Math.max(fromRank, 1);
    const last = Math.min(fromRank + count - 1, this.nodes.size);
    const out: LeaderboardEntry<Id>[] = [];
    if (first > last) return out;

    // Descend to rank `first`, stacking the ancestors that come after it.
    const stack = this.scratch;
    let k = first;
    let t = this.root;
    while (t !== null) {
      this.stats.visits++;
      const leftSize = sizeOf(t.left);
      if (k <= leftSize) {
        stack.push(t);
        t = t.left;
      } else if (k === leftSize + 1) {
        stack.push(t);
        break;
      } else {
        k -= leftSize + 1;
        t = t.right;
      }
    }

    let rank = first;
    while (rank <= last) {
      const n = stack.pop()!;
      out.push(entryOf(n, rank));
      rank++;
      for (let c = n.right; c !== null && rank <= last; c = c.left) {
        this.stats.visits++;
        stack.push(c);
      }
    }
    stack.length = 0;
    return out;
  }

  /**
   * Every entry in rank order.
   * @throws Error when the leaderboard changes while the iteration is under way.
   */
  *entries(): IterableIterator<LeaderboardEntry<Id>> {
    const version = this.version;
    const stack: Node<Id>[] = [];
    for (let c = this.root; c !== null; c = c.left) stack.push(c);
    let rank = 1;
    while (stack.length > 0) {
      const n = stack.pop()!;
      yield entryOf(n, rank);
      if (this.version !== version) throw new Error("leaderboard changed during iteration");
      rank++;
      for (let c = n.right; c !== null; c = c.left) stack.push(c);
    }
  }

  [Symbol.iterator](): IterableIterator<LeaderboardEntry<Id>> {
    return this.entries();
  }

  /** Diagnostic: height of the tree (0 when empty). AVL keeps it below 1.45·log2(n + 2). */
  height(): number {
    return heightOf(this.root);
  }

  private insertInto(t: Node<Id> | null, node: Node<Id>): Node<Id> {
    if (t === null) return node;
    this.stats.visits++;
    if (precedes(node, t)) t.left = this.insertInto(t.left, node);
    else t.right = this.insertInto(t.right, node);
    return rebalance(t);
  }

  /** Removes `node`, which must be in the subtree `t`; returns the subtree's new root. */
  private removeFrom(t: Node<Id>, node: Node<Id>): Node<Id> | null {
    this.stats.visits++;
    if (t === node) {
      if (t.left === null) return t.right;
      if (t.right === null) return t.left;
      // Splice the in-order successor into t's place instead of copying its key,
      // so the id → node map stays valid.
      const right = this.removeMin(t.right);
      const successor = this.detached!;
      this.detached = null;
      successor.left = t.left;
      successor.right = right;
      return rebalance(successor);
    }
    if (precedes(node, t)) t.left = this.removeFrom(t.left!, node);
    else t.right = this.removeFrom(t.right!, node);
    return rebalance(t);
  }

  /** Detaches the leftmost node of `t` into `this.detached`; returns the subtree's new root. */
  private removeMin(t: Node<Id>): Node<Id> | null {
    this.stats.visits++;
    if (t.left === null) {
      this.detached = t;
      return t.right;
    }
    t.left = this.removeMin(t.left);
    return rebalance(t);
  }
}
