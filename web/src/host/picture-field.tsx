/**
 * A question's picture in the editor: upload a file (stored by the server,
 * POST /api/v1/images, with the admin token) or paste an http(s) address,
 * see it, remove it. A refused file never touches the question; an address
 * that is not http(s) is marked at once and keeps the quiz from being sent.
 */
import { useState } from "preact/hooks";
import {
  addressProblem,
  fileProblem,
  IMAGE_ACCEPT,
  uploadErrorText,
} from "../lib/question-image.js";
import { adminApi } from "./services.js";

interface Props {
  /** The question's key: the fields' ids. */
  qkey: string;
  label: string;
  image: string;
  /** The server's issues for this question's `image` (shown until the value changes). */
  serverIssues: string[];
  onImage: (image: string) => void;
}

interface Uploaded {
  url: string;
}

export function PictureField({ qkey, label, image, serverIssues, onImage: setImage }: Props) {
  const [uploadError, setUploadError] = useState<string | null>(null);
  // The server's issues stop showing once the picture is changed after them (its error clears
  // as soon as it is fixed, not at the next save).
  const [editedAfter, setEditedAfter] = useState<string[] | null>(null);
  const onImage = (next: string) => {
    setEditedAfter(serverIssues);
    setImage(next);
  };
  const shownServerIssues = editedAfter === serverIssues ? [] : serverIssues;
  const [uploading, setUploading] = useState(false);
  const [broken, setBroken] = useState<string | null>(null);
  const id = (f: string) => `q-${qkey}-${f}`;
  const ref = image.trim();
  const problem = addressProblem(image);
  const messages = [
    ...(uploadError ? [uploadError] : []),
    ...(problem ? [problem] : shownServerIssues),
  ];
  const issueId = id("picture-issue");

  async function upload(input: HTMLInputElement) {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    const refused = fileProblem(file);
    if (refused) {
      setUploadError(refused);
      return;
    }
    setUploadError(null);
    setUploading(true);
    try {
      // Always octet-stream: the server reads the type from the bytes, so a mislabelled file
      // gets "not a picture" rather than an unsupported-media-type refusal.
      const stored = await adminApi<Uploaded>("/api/v1/images", {
        method: "POST",
        rawBody: { text: file, contentType: "application/octet-stream" },
      });
      onImage(stored.url);
    } catch (e) {
      setUploadError(uploadErrorText(e));
    } finally {
      setUploading(false);
    }
  }

  return (
    <fieldset class="picture-field" data-testid="picture-field">
      <legend>
        Picture <span class="muted small">(optional: PNG, JPEG, WebP or GIF, up to 2 MB)</span>
      </legend>
      <div class="picture-row">
        <label for={id("picture-file")} class="btn btn-small btn-secondary picture-upload">
          {uploading ? "Uploading…" : ref ? "Replace with a file…" : "Upload a picture…"}
        </label>
        <input
          id={id("picture-file")}
          class="visually-hidden"
          type="file"
          accept={IMAGE_ACCEPT}
          disabled={uploading}
          aria-label={`${label}: upload a picture`}
          onChange={(e) => void upload(e.currentTarget)}
        />
        {ref ? (
          <button
            type="button"
            class="btn btn-small btn-ghost"
            onClick={() => {
              setUploadError(null);
              onImage("");
            }}
            aria-label={`Remove the picture of ${label}`}
          >
            Remove picture
          </button>
        ) : null}
      </div>
      <label for={id("picture-url")}>or its web address (http:// or https://)</label>
      <input
        id={id("picture-url")}
        // Text, not type=url: an uploaded picture's address is a path, which the browser's own
        // URL check would refuse, blocking the whole form.
        type="text"
        inputMode="url"
        autoComplete="off"
        placeholder="https://example.com/picture.png"
        value={image}
        maxLength={2048}
        onInput={(e) => {
          setUploadError(null);
          onImage(e.currentTarget.value);
        }}
        {...(messages.length > 0
          ? { "aria-invalid": "true" as const, "aria-describedby": issueId }
          : {})}
      />
      {messages.length > 0 ? (
        <p id={issueId} class="field-issue" data-testid="picture-issue" role="alert">
          {messages.join(" ")}
        </p>
      ) : null}
      {ref && problem === null ? (
        broken === ref ? (
          <p class="warn-note" data-testid="picture-broken">
            This picture could not be loaded. Check the address.
          </p>
        ) : (
          <img
            key={ref}
            class="picture-preview"
            src={ref}
            alt={`${label}: preview`}
            data-testid="picture-preview"
            onError={() => setBroken(ref)}
          />
        )
      ) : null}
    </fieldset>
  );
}
