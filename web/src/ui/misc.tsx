import type { ComponentChildren } from "preact";

/** A problem in words, announced to screen readers. */
export function ErrorBox({ children, testId }: { children: ComponentChildren; testId?: string }) {
  if (children === null || children === undefined || children === false || children === "") {
    return null;
  }
  return (
    <div class="error-box" role="alert" data-testid={testId ?? "error"}>
      {children}
    </div>
  );
}

/** A spinner with words; never an empty page while something loads. */
export function Loading({ text = "Loading…" }: { text?: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span>{text}</span>
    </div>
  );
}
