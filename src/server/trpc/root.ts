import { authRouter } from "~/features/auth/auth.router";
import { conversationsRouter } from "~/features/conversations/conversations.router";
import { eventsRouter } from "~/features/events/events.router";
import { messagesRouter } from "~/features/messages/messages.router";
import { usersRouter } from "~/features/users/users.router";
import { router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  conversations: conversationsRouter,
  messages: messagesRouter,
  users: usersRouter,
  events: eventsRouter,
});

export type AppRouter = typeof appRouter;
