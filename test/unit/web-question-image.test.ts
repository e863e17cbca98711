import { describe, expect, it } from "vitest";
import { parseQuizDocument } from "../../src/content/quiz-format.js";
import { ApiError } from "../../web/src/lib/api.js";
import {
  addressProblem,
  fileProblem,
  IMAGE_ACCEPT,
  IMAGE_MAX_BYTES,
  pictureIssues,
  preloadImage,
  uploadErrorText,
} from "../../web/src/lib/question-image.js";
import {
  describeIssue,
  emptyQuiz,
  fromDocument,
  type QuizDocument,
  toDocument,
} from "../../web/src/lib/quiz-model.js";

const UPLOADED = `/api/v1/images/${"ab".repeat(32)}`;

function keys(): () => string {
  let n = 0;
  return () => `k${++n}`;
}

describe("web: a question's picture in the editor", () => {
  it("offers exactly the formats the server accepts to the file picker", () => {
    expect(IMAGE_ACCEPT).toBe("image/png,image/jpeg,image/webp,image/gif");
  });

  it("refuses a file that is not a picture, an empty one and one over 2 MiB before sending it", () => {
    expect(fileProblem({ size: 10, type: "text/plain" })).toMatch(/not a picture.*PNG, JPEG/);
    expect(fileProblem({ size: 10, type: "image/svg+xml" })).toMatch(/not a picture/);
    expect(fileProblem({ size: 0, type: "image/png" })).toMatch(/empty/);
    expect(fileProblem({ size: IMAGE_MAX_BYTES + 1, type: "image/jpeg" })).toMatch(
      /too large \(2\.0 MB\); the limit is 2 MB/,
    );
  });

  it("lets the server judge a file of unknown type, and takes pictures up to the limit", () => {
    expect(fileProblem({ size: IMAGE_MAX_BYTES, type: "image/png" })).toBeNull();
    expect(fileProblem({ size: 100, type: "" })).toBeNull();
    for (const type of ["image/png", "image/jpeg", "image/webp", "image/gif"]) {
      expect(fileProblem({ size: 100, type })).toBeNull();
    }
  });

  it("takes http(s) addresses and uploaded images' paths; anything else gets a sentence", () => {
    expect(addressProblem("")).toBeNull();
    expect(addressProblem("   ")).toBeNull();
    expect(addressProblem("https://example.com/a.png")).toBeNull();
    expect(addressProblem(" http://example.com/a.png ")).toBeNull();
    expect(addressProblem(UPLOADED)).toBeNull();
    for (const bad of [
      "ftp://example.com/a.png",
      "javascript:alert(1)",
      "data:image/png;base64,AAAA",
      "example.com/a.png",
      "/api/v1/images/not-an-id",
      "https://user:pw@example.com/a.png",
    ]) {
      expect(addressProblem(bad), bad).toMatch(/http:\/\/ or https:\/\//);
    }
    expect(addressProblem(`https://example.com/${"a".repeat(2100)}`)).toMatch(
      /^That address must be at most 2048 characters\.$/,
    );
  });

  it("names each question whose address cannot be saved, at the path the server would use", () => {
    const issues = pictureIssues([{ image: "" }, { image: "ftp://x/y.png" }, { image: UPLOADED }]);
    expect(issues).toEqual([{ path: "questions[1].image", msg: expect.stringMatching(/http/) }]);
    expect(describeIssue(issues[0] as (typeof issues)[0])).toMatch(/^Question 2 · Picture: /);
  });

  it("says why an upload was refused, from the server's reason", () => {
    const refused = (reason: string) =>
      new ApiError(400, "VALIDATION", "refused", reason, [], undefined);
    expect(uploadErrorText(refused("not_an_image"))).toMatch(/not a picture/);
    expect(uploadErrorText(refused("unsupported_media_type"))).toMatch(/not a picture/);
    expect(uploadErrorText(refused("image_too_large"))).toMatch(/too large.*2 MB/);
    expect(uploadErrorText(refused("body_too_large"))).toMatch(/too large.*2 MB/);
    expect(uploadErrorText(refused("empty_image"))).toMatch(/empty/);
    expect(uploadErrorText(new TypeError("fetch failed"))).toMatch(
      /^The picture was not uploaded\. The server cannot be reached/,
    );
  });

  it("carries a question's picture through the editor model and leaves it out when blank", () => {
    const doc: QuizDocument = {
      title: "Pictures",
      questions: [
        { kind: "single", text: "Which?", options: ["a", "b"], correct: [0], image: UPLOADED },
        { kind: "true_false", text: "Sure?", correct: [0] },
      ],
    };
    const quiz = fromDocument(doc, keys());
    expect(quiz.questions.map((q) => q.image)).toEqual([UPLOADED, ""]);
    const back = toDocument({
      ...quiz,
      questions: quiz.questions.map((q, i) =>
        i === 1 ? { ...q, image: "  https://example.com/b.png " } : q,
      ),
    });
    expect(back.questions.map((q) => q.image)).toEqual([UPLOADED, "https://example.com/b.png"]);
    expect(parseQuizDocument(back, { now: 0, newId: () => "new" }).ok).toBe(true);
    const blank = toDocument(emptyQuiz(keys()));
    expect(blank.questions[0]).not.toHaveProperty("image");
  });
});

describe("web: preloading the next question's picture", () => {
  it("loads each address once and ignores a reveal without one", () => {
    const loaded: string[] = [];
    const load = (url: string) => loaded.push(url);
    preloadImage(undefined, load);
    preloadImage("", load);
    preloadImage("/api/v1/images/next-1", load);
    preloadImage("/api/v1/images/next-1", load);
    preloadImage("https://example.com/next-2.png", load);
    expect(loaded).toEqual(["/api/v1/images/next-1", "https://example.com/next-2.png"]);
  });
});
