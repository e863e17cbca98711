import { readdir } from "node:fs/promises";
import { collectDefaultMetrics, Gauge, type Registry } from "prom-client";

/**
 * prom-client's default series whose collectors list every socket of the process on each
 * scrape, on the event loop: `process_open_fds` reads `/proc/self/fd` synchronously, and the
 * handles and resources gauges each build an array of every libuv handle (two for handles, two
 * for resources). At 10,000 connections one scrape held the loop for about 80 ms (a CPU profile
 * of a 10,000-player game: 51 ms in `readdirSync`, 12 ms in `_getActiveHandles`), so a
 * Prometheus scraping every 15 s put an 80 ms stall into every room's acknowledgements and
 * fan-out that often. They are replaced below by collectors that do the same work once, or off
 * the event loop.
 */
const LISTING_EVERY_SOCKET = [
  "process_open_fds",
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
] as const;

/**
 * Node's runtime series (`process_*`, `nodejs_*`: CPU, memory, GC, event loop lag, descriptors,
 * active resources) in `registry`. prom-client's defaults, except that:
 * - `process_open_fds` lists `/proc/self/fd` in libuv's thread pool (`fs/promises`), so the
 *   event loop only counts the names (Linux only, as prom-client's);
 * - `nodejs_active_resources` (by type) and `nodejs_active_resources_total` come from one
 *   `process.getActiveResourcesInfo()` per scrape, a list of type names;
 * - `nodejs_active_handles` and `nodejs_active_handles_total` are left out: they are built from
 *   every handle object (`process._getActiveHandles()`), and the resources above count the same
 *   handles by type.
 */
export function collectRuntimeMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of LISTING_EVERY_SOCKET) registry.removeSingleMetric(name);
  const registers = [registry];

  if (process.platform === "linux") {
    new Gauge({
      name: "process_open_fds",
      help: "Number of open file descriptors.",
      registers,
      async collect() {
        try {
          // Minus the descriptor the listing itself held open.
          this.set((await readdir("/proc/self/fd")).length - 1);
        } catch {
          // No /proc: the series stays at its last value.
        }
      },
    });
  }

  // One listing per scrape, shared by both gauges (a scrape collects them in this order; out of
  // order, each lists on its own and both are still right).
  let listed: Map<string, number> | null = null;
  const byType = new Gauge({
    name: "nodejs_active_resources",
    help: "Number of active resources that are currently keeping the event loop alive, grouped by async resource type.",
    labelNames: ["type"],
    registers,
    collect() {
      listed = countResources();
      byType.reset();
      for (const [type, n] of listed) byType.set({ type }, n);
    },
  });
  new Gauge({
    name: "nodejs_active_resources_total",
    help: "Total number of active resources.",
    registers,
    collect() {
      const counts = listed ?? countResources();
      listed = null;
      let total = 0;
      for (const n of counts.values()) total += n;
      this.set(total);
    },
  });
}

/** The resources keeping the event loop alive, counted by type. */
function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo())
    counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}
