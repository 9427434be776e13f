import { authRouter } from "~/features/auth/auth.router";
import { conversationsRouter } from "~/features/conversations/conversations.router";
import { eventsRouter } from "~/features/events/events.router";
import { messagesRouter } from "~/features/messages/messages.router";
import { presenceRouter } from "~/features/presence/presence.router";
import { settingsRouter } from "~/features/settings/settings.router";
import { usersRouter } from "~/features/users/users.router";
import { router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  conversations: conversationsRouter,
  messages: messagesRouter,
  users: usersRouter,
  presence: presenceRouter,
  events: eventsRouter,
  settings: settingsRouter,
});

export type AppRouter = typeof appRouter;
