import { useMemo } from "preact/hooks";
import { create } from "qrcode";
import { qrPath, qrViewSize } from "../lib/qr.js";

/** A QR code of `text`, drawn as one SVG path (no innerHTML). */
export function QrCode({ text, label }: { text: string; label: string }) {
  const drawn = useMemo(() => {
    try {
      const { modules } = create(text, { errorCorrectionLevel: "M" });
      return { d: qrPath(modules), size: qrViewSize(modules) };
    } catch {
      return null;
    }
  }, [text]);
  if (!drawn) return null;
  return (
    <svg
      class="qr"
      viewBox={`0 0 ${drawn.size} ${drawn.size}`}
      role="img"
      aria-label={label}
      shape-rendering="crispEdges"
      data-testid="join-qr"
    >
      <rect width={drawn.size} height={drawn.size} fill="#fff" />
      <path d={drawn.d} fill="#000" />
    </svg>
  );
}
