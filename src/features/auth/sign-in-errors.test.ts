import { describe, expect, it } from "vitest";
import { INVALID_CREDENTIALS_MESSAGE } from "./contracts";
import { signInRedirectErrorMessage } from "./sign-in-errors";

describe("signInRedirectErrorMessage", () => {
  it("explains the codes next-auth redirects with", () => {
    expect(signInRedirectErrorMessage("CredentialsSignin")).toBe(INVALID_CREDENTIALS_MESSAGE);
    expect(signInRedirectErrorMessage("OAuthAccountNotLinked")).toMatch(/already exists/);
  });

  it("never echoes text from the URL", () => {
    expect(signInRedirectErrorMessage("Your account is locked. Call +1 555 0100")).toBe("Sign-in failed. Try again.");
    expect(signInRedirectErrorMessage(undefined)).toBeUndefined();
    expect(signInRedirectErrorMessage(["a", "b"])).toBeUndefined();
  });
});
