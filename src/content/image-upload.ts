/**
 * Checking the bytes of a picture before it is stored: an accepted format as
 * the bytes themselves show it (never a file name or a client's content
 * type), within the size limit, named by the SHA-256 of its bytes. Used for
 * uploads and for the pictures a quiz export carries.
 */
import { createHash } from "node:crypto";
import { fileTypeFromBuffer } from "file-type";
import { IMAGE_MAX_BYTES, IMAGE_TYPES, type ImageType } from "./image-ref.js";

export interface CheckedImage {
  id: string;
  contentType: ImageType;
  bytes: Uint8Array;
}

export type ImageCheck =
  | { ok: true; image: CheckedImage }
  | { ok: false; reason: "empty_image" | "image_too_large" | "not_an_image"; message: string };

const ACCEPTED: ReadonlySet<string> = new Set(IMAGE_TYPES);

export function imageIdOf(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export async function checkImageBytes(bytes: Uint8Array): Promise<ImageCheck> {
  if (bytes.byteLength === 0) {
    return { ok: false, reason: "empty_image", message: "the image is empty" };
  }
  if (bytes.byteLength > IMAGE_MAX_BYTES) {
    return {
      ok: false,
      reason: "image_too_large",
      message: `the image is ${bytes.byteLength} bytes; at most ${IMAGE_MAX_BYTES} (2 MiB) are accepted`,
    };
  }
  const found = await fileTypeFromBuffer(bytes);
  if (found === undefined || !ACCEPTED.has(found.mime)) {
    const seen = found === undefined ? "not a file type it recognises" : `${found.mime}`;
    return {
      ok: false,
      reason: "not_an_image",
      message: `the bytes are ${seen}; accepted: PNG, JPEG, WebP or GIF`,
    };
  }
  return {
    ok: true,
    image: { id: imageIdOf(bytes), contentType: found.mime as ImageType, bytes },
  };
}
