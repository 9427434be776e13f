"use client";

import { Loader2Icon } from "lucide-react";
import { signOut } from "next-auth/react";
import { useState, type ComponentProps } from "react";

import { Button } from "~/components/ui/button";

/** Ends the session and lands on the sign-in page; shared by the button and the user menu. */
export function signOutToSignInPage() {
  return signOut({ callbackUrl: "/sign-in" });
}

type SignOutButtonProps = Omit<ComponentProps<typeof Button>, "onClick" | "children" | "asChild">;

export function SignOutButton({ disabled, ...buttonProps }: SignOutButtonProps) {
  const [isSigningOut, setIsSigningOut] = useState(false);

  async function handleClick() {
    setIsSigningOut(true);
    try {
      await signOutToSignInPage();
    } catch {
      setIsSigningOut(false);
    }
  }

  return (
    <Button
      type="button"
      {...buttonProps}
      disabled={disabled || isSigningOut}
      aria-busy={isSigningOut}
      onClick={() => void handleClick()}
    >
      {isSigningOut && <Loader2Icon className="animate-spin" aria-hidden="true" />}
      Sign out
    </Button>
  );
}
