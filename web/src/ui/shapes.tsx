/**
 * Answer options carry a colour, a shape and a letter beside their text, so
 * nobody needs to tell colours apart (never colour alone).
 */
export const OPTION_STYLES = [
  { name: "red triangle", className: "opt-0" },
  { name: "blue diamond", className: "opt-1" },
  { name: "yellow circle", className: "opt-2" },
  { name: "green square", className: "opt-3" },
  { name: "purple star", className: "opt-4" },
  { name: "teal hexagon", className: "opt-5" },
] as const;

const PATHS = [
  "M12 3 L22 20 L2 20 Z",
  "M12 2 L22 12 L12 22 L2 12 Z",
  "M12 2 A10 10 0 1 1 11.99 2 Z",
  "M3 3 H21 V21 H3 Z",
  "M12 2 L14.9 8.6 L22 9.3 L16.6 14 L18.2 21 L12 17.3 L5.8 21 L7.4 14 L2 9.3 L9.1 8.6 Z",
  "M7 3 H17 L22 12 L17 21 H7 L2 12 Z",
];

/** The shape of option `index` (decorative: the text and letter carry the meaning). */
export function OptionShape({ index }: { index: number }) {
  return (
    <svg class="opt-shape" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[index % PATHS.length]} fill="currentColor" />
    </svg>
  );
}

export function optionClass(index: number): string {
  return OPTION_STYLES[index % OPTION_STYLES.length]?.className ?? "opt-0";
}
