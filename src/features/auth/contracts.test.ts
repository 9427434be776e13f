import { describe, expect, it } from "vitest";
import { signInInput, signUpInput } from "./contracts";

describe("auth contracts", () => {
  it("normalizes the email and trims the name", () => {
    expect(signUpInput.parse({ email: "  Ana@Example.COM ", name: "  Ana ", password: "12345678" })).toEqual({
      email: "ana@example.com",
      name: "Ana",
      password: "12345678",
    });
  });

  it("says what is wrong with each field", () => {
    const result = signUpInput.safeParse({ email: "nope", name: " ", password: "short" });
    expect(result.success).toBe(false);
    const messages = result.error!.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    expect(messages).toEqual([
      "email: Enter a valid email address.",
      "name: Enter your name.",
      "password: Use at least 8 characters.",
    ]);
  });

  it("keeps no password rules on sign-in beyond presence", () => {
    expect(signInInput.safeParse({ email: "a@b.co", password: "x" }).success).toBe(true);
    expect(signInInput.safeParse({ email: "a@b.co", password: "" }).success).toBe(false);
  });
});
