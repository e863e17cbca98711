/**
 * Branded identifiers. A plain string cannot be passed where a SessionId is
 * expected without going through one of the constructors below, which keeps
 * the many string ids of a quiz session from being mixed up.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type QuizId = Brand<string, "QuizId">;
export type QuestionId = Brand<string, "QuestionId">;
export type SessionId = Brand<string, "SessionId">;
export type UserId = Brand<string, "UserId">;
export type ParticipantId = Brand<string, "ParticipantId">;

export const asQuizId = (s: string) => s as QuizId;
export const asQuestionId = (s: string) => s as QuestionId;
export const asSessionId = (s: string) => s as SessionId;
export const asUserId = (s: string) => s as UserId;
export const asParticipantId = (s: string) => s as ParticipantId;
