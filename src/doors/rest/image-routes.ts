import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import Type from "typebox";
import {
  IMAGE_ID_PATTERN_SOURCE,
  IMAGE_MAX_BYTES,
  IMAGE_TYPES,
  imagePath,
} from "../../content/image-ref.js";
import { checkImageBytes } from "../../content/image-upload.js";
import { SECURITY } from "./auth.js";
import { errorResponses, RestError } from "./errors.js";
import type { RestContext } from "./index.js";

const TAG = ["images"];

export const ImageView = Type.Object({
  id: Type.String({ description: "the SHA-256 of the bytes, lowercase hex" }),
  url: Type.String({ description: "the path to serve it from: a question's `image`" }),
  content_type: Type.Enum([...IMAGE_TYPES]),
  size: Type.Integer({ description: "bytes" }),
});

const ImageParams = Type.Object({ id: Type.String({ pattern: IMAGE_ID_PATTERN_SOURCE }) });

/** Uploaded images are named by their bytes, so a URL's content never changes: cache for a year. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * Question pictures: upload (admin, the raw bytes as the body) and serve
 * (anyone). The type is read from the bytes; the client's Content-Type only
 * has to be one this route parses. Registered in its own scope, since it
 * parses image bodies no other route takes.
 */
export function registerImageRoutes(app: FastifyInstance, ctx: RestContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { storage, auth } = ctx;

  app.addContentTypeParser(
    [...IMAGE_TYPES, "application/octet-stream"],
    // One byte over the limit is enough to tell "too large" from "at the limit".
    { parseAs: "buffer", bodyLimit: IMAGE_MAX_BYTES + 1 },
    (_req, body, done) => {
      done(null, body);
    },
  );

  r.post(
    "/api/v1/images",
    {
      bodyLimit: IMAGE_MAX_BYTES + 1,
      schema: {
        tags: TAG,
        summary: "Upload a picture for questions",
        description:
          "Body: the image file itself, with `Content-Type` image/png, image/jpeg, image/webp, " +
          "image/gif or application/octet-stream. The format is read from the bytes (PNG, JPEG, " +
          "WebP or GIF; anything else is refused with reason `not_an_image`), at most 2 MiB " +
          "(`image_too_large`). Replies with its `url`, to use as a question's `image`: 201 when " +
          "new, 200 when the same bytes were uploaded before.",
        security: [...SECURITY.admin],
        response: {
          200: ImageView,
          201: ImageView,
          ...errorResponses("VALIDATION", "UNAUTHORIZED", "FORBIDDEN"),
        },
      },
    },
    async (req, reply) => {
      await auth.requireAdmin(req);
      const body: unknown = req.body;
      if (!(body instanceof Uint8Array)) {
        throw new RestError(
          "VALIDATION",
          "send the image file as the body, with an image Content-Type",
          "not_an_image",
        );
      }
      const checked = await checkImageBytes(body);
      if (!checked.ok) throw new RestError("VALIDATION", checked.message, checked.reason);
      const { id, contentType, bytes } = checked.image;
      const known = (await storage.images.existing([id])).has(id);
      if (!known) await storage.images.put({ id, contentType, bytes, createdAt: ctx.clock.now() });
      return reply.code(known ? 200 : 201).send({
        id,
        url: imagePath(id),
        content_type: contentType,
        size: bytes.byteLength,
      });
    },
  );

  r.get(
    "/api/v1/images/:id",
    {
      schema: {
        tags: TAG,
        summary: "A picture uploaded for questions",
        description:
          "The bytes, with the content type read from them at upload, cached for a year " +
          "(`immutable`: the id is the SHA-256 of the bytes) and `X-Content-Type-Options: nosniff`.",
        security: [...SECURITY.anyone],
        params: ImageParams,
        response: {
          200: Type.Unsafe<Uint8Array>({ type: "string", format: "binary" }),
          304: Type.Null({ description: "not modified (If-None-Match named this image)" }),
          ...errorResponses("VALIDATION", "NOT_FOUND"),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const etag = `"${id}"`;
      if (req.headers["if-none-match"] === etag) {
        return reply.code(304).header("etag", etag).header("cache-control", IMMUTABLE).send(null);
      }
      const image = await storage.images.get(id);
      if (!image) throw new RestError("NOT_FOUND", `no image with id ${id}`, "no_image");
      return reply
        .type(image.contentType)
        .header("cache-control", IMMUTABLE)
        .header("etag", etag)
        .header("x-content-type-options", "nosniff")
        .send(Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength));
    },
  );
}
