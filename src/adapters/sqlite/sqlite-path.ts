/**
 * Whether `path` names an in-memory database (one connection's own) rather than a file. Its own
 * module: the main thread asks it without loading better-sqlite3, which only the worker does.
 */
export function isMemoryPath(path: string): boolean {
  return path === ":memory:" || path === "";
}
