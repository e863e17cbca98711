import { describe, expect, it } from "vitest";
import { OriginPolicy } from "../../src/doors/origin-policy.js";

const HOST = "quiz.local:8080";

describe("OriginPolicy with ALLOWED_ORIGINS unset", () => {
  const policy = OriginPolicy.fromConfig({
    allowedOrigins: [],
    publicUrl: "https://quiz.example.com",
  });

  it("accepts clients that send no Origin (scripts, servers, wscat)", () => {
    expect(policy.allows(undefined, HOST)).toBe(true);
    expect(policy.allows("", HOST)).toBe(true);
  });

  it("accepts the server's own origin, whatever the scheme, and PUBLIC_URL's", () => {
    expect(policy.allows("http://quiz.local:8080", HOST)).toBe(true);
    expect(policy.allows("https://QUIZ.local:8080", HOST)).toBe(true);
    expect(policy.allows("https://quiz.example.com", HOST)).toBe(true);
    expect(policy.allows("https://quiz.example.com:443", "other:1")).toBe(true);
  });

  it("refuses every other origin, and origins that are not http(s)", () => {
    expect(policy.allows("https://evil.example", HOST)).toBe(false);
    expect(policy.allows("http://quiz.local:9090", HOST)).toBe(false);
    expect(policy.allows("http://quiz.local:8080.evil.example", HOST)).toBe(false);
    expect(policy.allows("null", HOST)).toBe(false);
    expect(policy.allows("file://", HOST)).toBe(false);
    expect(policy.allows("https://evil.example", undefined)).toBe(false);
  });
});

describe("OriginPolicy with ALLOWED_ORIGINS set", () => {
  const policy = OriginPolicy.fromConfig({
    allowedOrigins: ["https://a.example", "https://B.example/"],
    publicUrl: "http://localhost:8080",
  });

  it("accepts the listed origins besides its own and PUBLIC_URL's", () => {
    expect(policy.allows("https://a.example", HOST)).toBe(true);
    expect(policy.allows("https://b.example", HOST)).toBe(true);
    expect(policy.allows("http://quiz.local:8080", HOST)).toBe(true);
    expect(policy.allows("http://localhost:8080", HOST)).toBe(true);
  });

  it("refuses the rest", () => {
    expect(policy.allows("https://c.example", HOST)).toBe(false);
    expect(policy.allows("http://a.example", HOST)).toBe(false);
  });
});
