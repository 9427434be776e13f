import { z } from "zod";

// Shared by the sign-up/sign-in forms (zodResolver) and the server procedures, so a
// person sees exactly the message the server would answer with.

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "Enter your email address.")
  .max(254, "That email address is too long.")
  .pipe(z.email("Enter a valid email address."));

/** OWASP ASVS: at least 8 characters, at most 128, no composition rules. */
export const passwordSchema = z
  .string()
  .min(8, "Use at least 8 characters.")
  .max(128, "Use at most 128 characters.");

export const displayNameSchema = z
  .string()
  .trim()
  .min(1, "Enter your name.")
  .max(80, "Use at most 80 characters.");

export const signUpInput = z.object({
  email: emailSchema,
  name: displayNameSchema,
  password: passwordSchema,
});
export type SignUpInput = z.infer<typeof signUpInput>;

export const signUpOutput = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
});
export type SignUpOutput = z.infer<typeof signUpOutput>;

export const signInInput = z.object({
  email: emailSchema,
  // No length rules on sign-in: a wrong password gets the same answer as an unknown email.
  password: z.string().min(1, "Enter your password.").max(1024),
});
export type SignInInput = z.infer<typeof signInInput>;

export const sessionUserSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  image: z.string().nullable(),
  roles: z.array(z.string()),
  permissions: z.array(z.string()),
});
export type SessionUser = z.infer<typeof sessionUserSchema>;

/** The one message for every failed sign-in, so nobody can probe which emails exist. */
export const INVALID_CREDENTIALS_MESSAGE = "Wrong email or password.";
export const SIGN_IN_THROTTLED_MESSAGE = "Too many failed attempts. Wait a few minutes and try again.";
export const SIGN_IN_UNAVAILABLE_MESSAGE = "Signing in is not possible right now. Try again in a minute.";
export const SIGN_UP_THROTTLED_MESSAGE = "Too many accounts were created from your network. Try again later.";
