import { GeistMono } from "geist/font/mono";
import { GeistSans } from "geist/font/sans";
import type { Metadata } from "next";
import { headers } from "next/headers";
import type { ReactNode } from "react";

import { ThemeScript } from "~/components/theme-script";
import { Toaster } from "~/components/ui/sonner";
import { NONCE_HEADER } from "~/server/http/security-headers";
import { TRPCReactProvider } from "~/trpc/react";

import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Chatline", template: "%s · Chatline" },
  description: "Real-time messaging for teams and friends.",
};

export default async function RootLayout({ children }: Readonly<{ children: ReactNode }>) {
  // This request's Content-Security-Policy nonce (set by the server; Next puts it on its own scripts).
  const nonce = (await headers()).get(NONCE_HEADER) ?? undefined;
  return (
    // The theme script changes the class on <html> before React hydrates.
    <html lang="en" suppressHydrationWarning className={`${GeistSans.variable} ${GeistMono.variable}`}>
      <head>
        <ThemeScript nonce={nonce} />
      </head>
      <body className="font-sans antialiased">
        <TRPCReactProvider>{children}</TRPCReactProvider>
        <Toaster />
      </body>
    </html>
  );
}
