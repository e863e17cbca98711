/**
 * A question's picture on the host's screen, the big screen and the phone.
 * The question never waits for it: the text and answers show at once and the
 * picture appears when it has loaded (usually at once, preloaded during the
 * previous reveal). Sized by CSS so the answers stay on screen.
 */
import { useState } from "preact/hooks";

export function QuestionPicture({ src, alt }: { src: string | undefined; alt: string }) {
  if (src === undefined || src === "") return null;
  // Keyed by the address: a new question's picture starts hidden again until it loads.
  return <Picture key={src} src={src} alt={alt} />;
}

function Picture({ src, alt }: { src: string; alt: string }) {
  const [state, setState] = useState<"loading" | "loaded" | "failed">("loading");
  if (state === "failed") return null;
  return (
    <figure class={`q-picture q-picture-${state}`} data-testid="question-picture">
      <img
        src={src}
        alt={alt}
        decoding="async"
        onLoad={() => setState("loaded")}
        onError={() => setState("failed")}
      />
    </figure>
  );
}
