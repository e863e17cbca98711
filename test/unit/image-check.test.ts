import { describe, expect, it } from "vitest";
import { imageRefProblem, uploadedImageId } from "../../src/content/image-ref.js";
import { checkImageBytes, imageIdOf } from "../../src/content/image-upload.js";
import { TINY_IMAGES } from "../support/images.js";

describe("checkImageBytes", () => {
  it("accepts PNG, JPEG, WebP and GIF by their bytes, named by the SHA-256 of the bytes", async () => {
    const expected = { png: "image/png", gif: "image/gif", jpeg: "image/jpeg", webp: "image/webp" };
    for (const [kind, bytes] of Object.entries(TINY_IMAGES)) {
      const checked = await checkImageBytes(bytes);
      expect(checked.ok, kind).toBe(true);
      if (checked.ok) {
        expect(checked.image.contentType).toBe(expected[kind as keyof typeof expected]);
        expect(checked.image.id).toBe(imageIdOf(bytes));
        expect(checked.image.id).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it("refuses what is not an image whatever it claims to be: text, a PDF, an SVG, nothing, too much", async () => {
    const refused = async (bytes: Uint8Array) => {
      const c = await checkImageBytes(bytes);
      return c.ok ? "accepted" : c.reason;
    };
    expect(await refused(Buffer.from("hello, I am a picture.png"))).toBe("not_an_image");
    expect(await refused(Buffer.from("%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n"))).toBe(
      "not_an_image",
    );
    expect(
      await refused(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')),
    ).toBe("not_an_image");
    expect(await refused(new Uint8Array(0))).toBe("empty_image");
    const huge = Buffer.concat([TINY_IMAGES.png, Buffer.alloc(2 * 1024 * 1024)]);
    expect(await refused(huge)).toBe("image_too_large");
  });
});

describe("imageRefProblem", () => {
  it("takes http(s) URLs and the path of an uploaded image", () => {
    expect(imageRefProblem("https://example.org/a.png")).toBeNull();
    expect(imageRefProblem("http://127.0.0.1:8080/x.gif?size=2")).toBeNull();
    const path = `/api/v1/images/${"0".repeat(64)}`;
    expect(imageRefProblem(path)).toBeNull();
    expect(uploadedImageId(path)).toBe("0".repeat(64));
    expect(uploadedImageId("https://example.org/api/v1/images/x")).toBeNull();
  });

  it("refuses every other scheme, other paths, credentials and overlong references", () => {
    for (const bad of [
      "javascript:alert(1)",
      "data:image/png;base64,AAAA",
      "file:///etc/passwd",
      "ftp://example.org/a.png",
      "/etc/passwd",
      "/api/v1/images/../../secret",
      `/api/v1/images/${"G".repeat(64)}`,
      "a.png",
      "https://user:pw@example.org/a.png",
      `https://example.org/${"a".repeat(2100)}`,
      "",
    ]) {
      expect(imageRefProblem(bad), bad).not.toBeNull();
    }
  });
});
