"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { CircleAlertIcon, Loader2Icon } from "lucide-react";
import { getProviders, signIn } from "next-auth/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { useForm } from "react-hook-form";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "~/components/ui/form";
import { Input } from "~/components/ui/input";
import { Separator } from "~/components/ui/separator";
import { INVALID_CREDENTIALS_MESSAGE, signInInput } from "~/features/auth/contracts";

const OAUTH_BUTTON_LABELS = {
  github: "Continue with GitHub",
  google: "Continue with Google",
} as const;

type OAuthProviderId = keyof typeof OAUTH_BUTTON_LABELS;

const OAUTH_PROVIDER_IDS = Object.keys(OAUTH_BUTTON_LABELS) as OAuthProviderId[];

// Any absolute URL here could send a person to another site right after they sign in
// (an open redirect), so only paths on this origin are kept.
const PLACEHOLDER_ORIGIN = "http://chatline.invalid";

function sameOriginPath(requested: string | undefined): string {
  if (!requested || !requested.startsWith("/") || requested.startsWith("//") || requested.startsWith("/\\")) {
    return "/";
  }
  try {
    // The URL parser drops tabs and newlines, so "/\t/evil.example" would still leave the
    // origin; comparing origins after parsing catches every such trick.
    const url = new URL(requested, PLACEHOLDER_ORIGIN);
    if (url.origin !== PLACEHOLDER_ORIGIN) return "/";
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return "/";
  }
}

const UNREACHABLE_SERVER_MESSAGE = "We couldn't reach the server. Check your connection and try again.";

function signInErrorMessage(error: string): string {
  return error === "CredentialsSignin" ? INVALID_CREDENTIALS_MESSAGE : error;
}

function useConfiguredOAuthProviders(): OAuthProviderId[] {
  const [providerIds, setProviderIds] = useState<OAuthProviderId[]>([]);

  useEffect(() => {
    let isCurrent = true;
    getProviders()
      .then((providers) => {
        if (!isCurrent || !providers) return;
        setProviderIds(OAUTH_PROVIDER_IDS.filter((id) => id in providers));
      })
      .catch(() => {
        // Without the provider list the email form still works; the OAuth buttons stay hidden.
      });
    return () => {
      isCurrent = false;
    };
  }, []);

  return providerIds;
}

type SignInFormProps = {
  /** The raw `callbackUrl` search parameter; anything but a same-origin path becomes "/". */
  callbackUrl?: string;
  /** Why the last sign-in failed, when next-auth redirected here with an error code. */
  initialError?: string;
};

export function SignInForm({ callbackUrl: requestedCallbackUrl, initialError }: SignInFormProps) {
  const router = useRouter();
  const callbackUrl = sameOriginPath(requestedCallbackUrl);
  const oauthProviderIds = useConfiguredOAuthProviders();
  const [formError, setFormError] = useState<string | null>(initialError ?? null);
  const [isRedirecting, setIsRedirecting] = useState(false);

  const form = useForm({
    resolver: zodResolver(signInInput),
    defaultValues: { email: "", password: "" },
  });

  const isPending = form.formState.isSubmitting || isRedirecting;

  const onSubmit = form.handleSubmit(async ({ email, password }) => {
    setFormError(null);
    const result = await signIn("credentials", { email, password, redirect: false, callbackUrl }).catch(() => null);
    if (result === null) {
      setFormError(UNREACHABLE_SERVER_MESSAGE);
      return;
    }
    if (!result?.ok || result.error) {
      setFormError(result?.error ? signInErrorMessage(result.error) : "Sign-in failed. Try again.");
      form.resetField("password");
      form.setFocus("password");
      return;
    }
    setIsRedirecting(true);
    router.push(callbackUrl);
    router.refresh();
  });

  function continueWith(providerId: OAuthProviderId) {
    setFormError(null);
    setIsRedirecting(true);
    signIn(providerId, { callbackUrl }).catch(() => {
      setIsRedirecting(false);
      setFormError(UNREACHABLE_SERVER_MESSAGE);
    });
  }

  return (
    <div className="grid gap-6">
      {formError && (
        <Alert variant="destructive">
          <CircleAlertIcon aria-hidden="true" />
          <AlertDescription>{formError}</AlertDescription>
        </Alert>
      )}

      <Form {...form}>
        <form onSubmit={onSubmit} noValidate aria-busy={isPending} className="grid gap-4">
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
                  <Input type="password" autoComplete="current-password" {...field} />
                </FormControl>
                <FormMessage />
              </FormItem>
            )}
          />
          <Button type="submit" className="w-full" disabled={isPending}>
            {isPending && <Loader2Icon className="animate-spin" aria-hidden="true" />}
            Sign in
          </Button>
        </form>
      </Form>

      {oauthProviderIds.length > 0 && (
        <div className="grid gap-4">
          <div className="flex items-center gap-3">
            <Separator className="flex-1" />
            <span className="text-muted-foreground text-xs">or</span>
            <Separator className="flex-1" />
          </div>
          <div className="grid gap-2">
            {oauthProviderIds.map((providerId) => (
              <Button
                key={providerId}
                type="button"
                variant="outline"
                className="w-full"
                disabled={isPending}
                onClick={() => continueWith(providerId)}
              >
                {OAUTH_BUTTON_LABELS[providerId]}
              </Button>
            ))}
          </div>
        </div>
      )}

      <p className="text-muted-foreground text-center text-sm">
        New to Chatline?{" "}
        <Link href="/sign-up" className="text-foreground font-medium underline underline-offset-4">
          Create an account
        </Link>
      </p>
    </div>
  );
}
