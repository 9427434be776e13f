import type { Metadata } from "next";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";

import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import { SignInForm } from "~/features/auth/components/sign-in-form";
import { authOptions } from "~/features/auth/next-auth-options";
import { signInRedirectErrorMessage } from "~/features/auth/sign-in-errors";

export const metadata: Metadata = { title: "Sign in" };

type SignInPageProps = {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

export default async function SignInPage({ searchParams }: SignInPageProps) {
  const session = await getServerSession(authOptions);
  if (session?.user) redirect("/");

  const { callbackUrl, error } = await searchParams;

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h1 className="text-xl">Sign in to Chatline</h1>
        </CardTitle>
        <CardDescription>Welcome back. Enter your email and password.</CardDescription>
      </CardHeader>
      <CardContent>
        <SignInForm
          callbackUrl={typeof callbackUrl === "string" ? callbackUrl : undefined}
          initialError={signInRedirectErrorMessage(error)}
        />
      </CardContent>
    </Card>
  );
}
