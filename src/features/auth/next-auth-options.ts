import type { NextAuthOptions, User as NextAuthUser } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import GitHubProvider from "next-auth/providers/github";
import GoogleProvider from "next-auth/providers/google";
import { db } from "~/server/db/client";
import { DomainError } from "~/server/errors";
import { loadSessionUser, upsertOAuthUser, verifyCredentials } from "./auth.service";
import { logger } from "~/server/logger";
import { INVALID_CREDENTIALS_MESSAGE, SIGN_IN_UNAVAILABLE_MESSAGE, signInInput, type SessionUser } from "./contracts";
import { clientAddress } from "./request-origin";

declare module "next-auth" {
  interface Session {
    /** Absent when the account behind the cookie was deleted or disabled. */
    user?: SessionUser;
  }
}

const SESSION_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

function oauthProviders(): NextAuthOptions["providers"] {
  const providers: NextAuthOptions["providers"] = [];
  if (process.env.GITHUB_ID && process.env.GITHUB_SECRET) {
    providers.push(GitHubProvider({ clientId: process.env.GITHUB_ID, clientSecret: process.env.GITHUB_SECRET }));
  }
  if (process.env.GOOGLE_CLIENT_ID && process.env.GOOGLE_CLIENT_SECRET) {
    providers.push(
      GoogleProvider({ clientId: process.env.GOOGLE_CLIENT_ID, clientSecret: process.env.GOOGLE_CLIENT_SECRET }),
    );
  }
  return providers;
}

/**
 * JWT sessions in an HTTP-only cookie: the same cookie authenticates tRPC over
 * HTTP and the WebSocket upgrade, decoded locally with the shared secret.
 */
export const authOptions: NextAuthOptions = {
  secret: process.env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
  pages: { signIn: "/sign-in", error: "/sign-in" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, req): Promise<NextAuthUser | null> {
        const parsed = signInInput.safeParse(credentials ?? {});
        if (!parsed.success) throw new Error(INVALID_CREDENTIALS_MESSAGE);
        const headers = (req?.headers ?? {}) as Record<string, string | string[] | undefined>;
        try {
          const user = await verifyCredentials(db(), parsed.data, {
            ip: clientAddress(headers),
            userAgent: typeof headers["user-agent"] === "string" ? headers["user-agent"] : null,
          });
          return { id: user.id, email: user.email, name: user.name, image: user.image };
        } catch (error) {
          // next-auth hands a thrown message to the browser as `error`: only our own
          // messages may go there, never a driver's.
          if (error instanceof DomainError) throw new Error(error.message, { cause: error });
          logger.error({ err: error }, "sign-in failed unexpectedly");
          throw new Error(SIGN_IN_UNAVAILABLE_MESSAGE, { cause: error });
        }
      },
    }),
    ...oauthProviders(),
  ],
  callbacks: {
    async jwt({ token, user, account, profile }) {
      if (account && account.provider !== "credentials") {
        const email = (user?.email ?? profile?.email)?.toLowerCase();
        if (!email) throw new Error("That account has no email address we can use.");
        const local = await upsertOAuthUser(db(), {
          provider: account.provider,
          providerAccountId: account.providerAccountId,
          email,
          // Google states it; GitHub's profile does not, so it never links to an existing account.
          emailVerified: (profile as { email_verified?: unknown } | undefined)?.email_verified === true,
          name: user?.name ?? profile?.name ?? email,
          image: user?.image ?? null,
        });
        token.sub = local.id;
      } else if (user) {
        token.sub = user.id;
      }
      return token;
    },
    async session({ session, token }) {
      const user = token.sub ? await loadSessionUser(db(), token.sub) : null;
      // A deleted or disabled account keeps no session, whatever its cookie says.
      return { ...session, user: user ?? undefined };
    },
  },
};
