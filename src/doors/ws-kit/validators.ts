import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";

/** One compiled validator per message type. */
export type Validators<M extends Record<string, TSchema>> = {
  [K in keyof M]: ReturnType<typeof Compile<M[K]>>;
};

/** Compiles every message schema of a protocol module, keyed by message type. */
export function compileMessages<M extends Record<string, TSchema>>(messages: M): Validators<M> {
  return Object.fromEntries(
    Object.entries(messages).map(([type, schema]) => [type, Compile(schema)]),
  ) as Validators<M>;
}

/** A type guard for the message types of a protocol module. */
export function messageTypeGuard<M extends Record<string, TSchema>>(
  messages: M,
): (type: string) => type is Extract<keyof M, string> {
  return (type: string): type is Extract<keyof M, string> => Object.hasOwn(messages, type);
}
