"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { TRPCClientError } from "@trpc/client";
import { CircleAlertIcon, Loader2Icon } from "lucide-react";
import { signIn } from "next-auth/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import {
  Form,
  FormControl,
  FormDescription,
  FormField,
  FormItem,
  FormLabel,
  FormMessage,
} from "~/components/ui/form";
import { Input } from "~/components/ui/input";
import { INVALID_CREDENTIALS_MESSAGE, signUpInput, type SignUpInput } from "~/features/auth/contracts";
import { api } from "~/trpc/react";

type SignUpField = keyof SignUpInput;

const SIGN_UP_FIELDS: readonly SignUpField[] = ["name", "email", "password"];

const UNREACHABLE_SERVER_MESSAGE = "We couldn't reach the server. Check your connection and try again.";

type FieldIssue = { field: SignUpField | null; message: string };

type ServerError = { message: string; data: unknown };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function asSignUpField(value: unknown): SignUpField | null {
  return SIGN_UP_FIELDS.find((field) => field === value) ?? null;
}

function stringsIn(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/**
 * Per-field validation issues from a BAD_REQUEST answer. tRPC puts the Zod issues, as JSON,
 * in the message of an input-validation error; an error formatter may also expose them as
 * `data.zodError` (flattened `fieldErrors`, or a tree with `properties`). Any shape is read.
 */
function validationIssuesOf(error: ServerError): FieldIssue[] {
  const zodError = isRecord(error.data) ? error.data.zodError : undefined;
  if (isRecord(zodError)) {
    const issues: FieldIssue[] = [];
    const byField = isRecord(zodError.fieldErrors) ? zodError.fieldErrors : zodError.properties;
    if (isRecord(byField)) {
      for (const [key, value] of Object.entries(byField)) {
        const messages = isRecord(value) && !Array.isArray(value) ? stringsIn(value.errors) : stringsIn(value);
        for (const message of messages) issues.push({ field: asSignUpField(key), message });
      }
    }
    for (const message of [...stringsIn(zodError.formErrors), ...stringsIn(zodError.errors)]) {
      issues.push({ field: null, message });
    }
    if (issues.length > 0) return issues;
  }

  let parsedMessage: unknown;
  try {
    parsedMessage = JSON.parse(error.message);
  } catch {
    return [];
  }
  if (!Array.isArray(parsedMessage)) return [];
  return parsedMessage.flatMap((issue): FieldIssue[] => {
    if (!isRecord(issue) || typeof issue.message !== "string") return [];
    const path = Array.isArray(issue.path) ? issue.path : [];
    return [{ field: asSignUpField(path[0]), message: issue.message }];
  });
}

export function SignUpForm() {
  const router = useRouter();
  const signUp = api.auth.signUp.useMutation();
  const [formError, setFormError] = useState<string | null>(null);
  const [signInFailedAfterSignUp, setSignInFailedAfterSignUp] = useState(false);
  const [isRedirecting, setIsRedirecting] = useState(false);

  const form = useForm({
    resolver: zodResolver(signUpInput),
    defaultValues: { name: "", email: "", password: "" },
  });

  const isPending = form.formState.isSubmitting || isRedirecting;

  function showServerError(error: unknown) {
    if (!(error instanceof TRPCClientError)) {
      setFormError(UNREACHABLE_SERVER_MESSAGE);
      return;
    }
    const serverError: ServerError = { message: error.message, data: error.data };
    const code = isRecord(serverError.data) ? serverError.data.code : undefined;
    if (code === "CONFLICT") {
      form.setError("email", { type: "server", message: serverError.message }, { shouldFocus: true });
      return;
    }
    if (code === "BAD_REQUEST") {
      const issues = validationIssuesOf(serverError);
      const unplacedMessages: string[] = [];
      for (const { field, message } of issues) {
        if (field) form.setError(field, { type: "server", message });
        else unplacedMessages.push(message);
      }
      if (issues.length > 0) {
        if (unplacedMessages.length > 0) setFormError(unplacedMessages.join(" "));
        return;
      }
    }
    setFormError(serverError.message);
  }

  const onSubmit = form.handleSubmit(async (values) => {
    setFormError(null);
    setSignInFailedAfterSignUp(false);
    try {
      await signUp.mutateAsync(values);
    } catch (error) {
      showServerError(error);
      return;
    }

    const result = await signIn("credentials", {
      email: values.email,
      password: values.password,
      redirect: false,
      callbackUrl: "/",
    }).catch(() => null);
    if (!result?.ok || result.error) {
      const reason = result?.error === "CredentialsSignin" ? INVALID_CREDENTIALS_MESSAGE : result?.error;
      setSignInFailedAfterSignUp(true);
      setFormError(`Your account was created, but we couldn't sign you in. ${reason ?? UNREACHABLE_SERVER_MESSAGE}`);
      return;
    }
    setIsRedirecting(true);
    router.push("/");
    router.refresh();
  });

  return (
    <div className="grid gap-6">
      {formError && (
        <Alert variant="destructive">
          <CircleAlertIcon aria-hidden="true" />
          <AlertDescription>
            <p>{formError}</p>
            {signInFailedAfterSignUp && (
              <Link href="/sign-in" className="font-medium underline underline-offset-4">
                Go to sign in
              </Link>
            )}
          </AlertDescription>
        </Alert>
      )}

      <Form {...form}>
        <form onSubmit={onSubmit} noValidate aria-busy={isPending} className="grid gap-4">
          <FormField
            control={form.control}
            name="name"
            render={({ field }) => (
              <FormItem>
                <FormLabel>Name</FormLabel>
                <FormControl>
                  <Input autoComplete="name" {...field} />
                </FormControl>
                <FormMessage />
              </FormItem>
            )}
          />
          <FormField
            control={form.control}
            name="email"
            render={({ field }) => (
              <FormItem>
                <FormLabel>Email</FormLabel>
                <FormControl>
                  <Input type="email" autoComplete="email" inputMode="email" {...field} />
                </FormControl>
                <FormMessage />
              </FormItem>
            )}
          />
          <FormField
            control={form.control}
            name="password"
            render={({ field }) => (
              <FormItem>
                <FormLabel>Password</FormLabel>
                <FormControl>
                  <Input type="password" autoComplete="new-password" {...field} />
                </FormControl>
                <FormDescription>8 or more characters. A few random words make a strong one.</FormDescription>
                <FormMessage />
              </FormItem>
            )}
          />
          <Button type="submit" className="w-full" disabled={isPending}>
            {isPending && <Loader2Icon className="animate-spin" aria-hidden="true" />}
            Create account
          </Button>
        </form>
      </Form>

      <p className="text-muted-foreground text-center text-sm">
        Already have an account?{" "}
        <Link href="/sign-in" className="text-foreground font-medium underline underline-offset-4">
          Sign in
        </Link>
      </p>
    </div>
  );
}
