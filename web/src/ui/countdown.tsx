import { countdown } from "../lib/countdown.js";

interface Props {
  /** Server epoch ms. */
  deadline: number | null;
  /** Server clock now (from the SDK's offset estimate). */
  now: number;
  totalMs: number | null;
  /** A bigger timer for the host's screen and the projector. */
  large?: boolean;
  label?: string;
}

/** Seconds left to a server deadline, as a number and a shrinking bar. */
export function Countdown({ deadline, now, totalMs, large, label = "Time left" }: Props) {
  const c = countdown(deadline, now, totalMs);
  if (!c) return null;
  return (
    <div
      class={`countdown${large ? " countdown-large" : ""}${c.urgent ? " countdown-urgent" : ""}`}
      role="timer"
      aria-label={`${label}: ${c.seconds} ${c.seconds === 1 ? "second" : "seconds"}`}
      data-testid="countdown"
    >
      <span class="countdown-number" aria-hidden="true">
        {c.seconds}
      </span>
      <span class="countdown-track" aria-hidden="true">
        <span class="countdown-fill" style={{ width: `${(c.fraction * 100).toFixed(1)}%` }} />
      </span>
    </div>
  );
}
