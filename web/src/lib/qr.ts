/**
 * A QR code as one SVG path: each dark module a 1×1 square, runs along a row
 * merged into one rectangle. Rendering this path (instead of an SVG string
 * from the encoder) keeps the page free of innerHTML.
 */

/** The encoder's module matrix, as `qrcode`'s BitMatrix exposes it. */
export interface ModuleMatrix {
  size: number;
  get(row: number, col: number): number;
}

/** SVG path data for the dark modules, offset by a quiet zone of `margin` modules. */
export function qrPath(m: ModuleMatrix, margin = 4): string {
  const parts: string[] = [];
  for (let row = 0; row < m.size; row++) {
    let col = 0;
    while (col < m.size) {
      if (!m.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < m.size && m.get(row, col)) col++;
      parts.push(`M${start + margin} ${row + margin}h${col - start}v1h-${col - start}z`);
    }
  }
  return parts.join("");
}

/** The side of the SVG's viewBox: the matrix plus the quiet zone on both sides. */
export function qrViewSize(m: ModuleMatrix, margin = 4): number {
  return m.size + 2 * margin;
}
