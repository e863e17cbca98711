import { FencedError, type Storage } from "../ports/storage.js";

/** Every method of `store`, calling `failed` when one rejects or throws; values are unchanged. */
function counted<T extends object>(store: T, failed: (err: unknown) => void): T {
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          failed(err);
          throw err;
        }
        if (result instanceof Promise) result.catch(failed);
        return result;
      };
    },
  });
}

/**
 * The storage with its failures counted (database_errors_total): an unreachable database, a
 * failed statement or commit. A fenced write is an outcome of the ownership protocol, not a
 * database error, and is not counted. The caller still gets every rejection as before.
 */
export function countStorageErrors(storage: Storage, onError: () => void): Storage {
  const failed = (err: unknown) => {
    if (!(err instanceof FencedError)) onError();
  };
  const wrapped = counted(storage, failed);
  // Typed as Storage, not cast: a store added to the port and missing here is a compile error.
  const counting: Storage = {
    quizzes: counted(storage.quizzes, failed),
    bank: counted(storage.bank, failed),
    sessions: counted(storage.sessions, failed),
    meta: counted(storage.meta, failed),
    images: counted(storage.images, failed),
    ping: () => wrapped.ping(),
    close: () => storage.close(),
    settleArrived: () => storage.settleArrived?.(),
  };
  return counting;
}
