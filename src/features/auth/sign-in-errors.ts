import { INVALID_CREDENTIALS_MESSAGE } from "./contracts";

// next-auth sends a failed OAuth (or credentials) sign-in back to the sign-in page
// with ?error=<code>. Only known codes are turned into text: the page never shows
// words taken from its own URL, which anyone could craft into a phishing link.

const MESSAGES: Record<string, string> = {
  CredentialsSignin: INVALID_CREDENTIALS_MESSAGE,
  OAuthAccountNotLinked: "An account with this email already exists. Sign in with your password to use it.",
  Callback: "Signing in with that account did not work. If you already have an account with this email, sign in with your password.",
  OAuthCallback: "The sign-in provider did not complete the sign-in. Try again.",
  OAuthSignin: "The sign-in provider could not be reached. Try again.",
  AccessDenied: "That account may not sign in here.",
  SessionRequired: "Sign in to continue.",
};

const FALLBACK = "Sign-in failed. Try again.";

export function signInRedirectErrorMessage(code: string | string[] | undefined): string | undefined {
  if (typeof code !== "string" || code === "") return undefined;
  return MESSAGES[code] ?? FALLBACK;
}
