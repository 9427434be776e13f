import type { Metadata } from "next";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";

import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import { SignUpForm } from "~/features/auth/components/sign-up-form";
import { authOptions } from "~/features/auth/next-auth-options";

export const metadata: Metadata = { title: "Create account" };

export default async function SignUpPage() {
  const session = await getServerSession(authOptions);
  if (session?.user) redirect("/");

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h1 className="text-xl">Create your Chatline account</h1>
        </CardTitle>
        <CardDescription>It takes a name, an email address and a password.</CardDescription>
      </CardHeader>
      <CardContent>
        <SignUpForm />
      </CardContent>
    </Card>
  );
}
