import { auditRouter } from "~/features/audit/audit.router";
import { authRouter } from "~/features/auth/auth.router";
import { conversationsRouter } from "~/features/conversations/conversations.router";
import { eventsRouter } from "~/features/events/events.router";
import { messagesRouter } from "~/features/messages/messages.router";
import { notificationsRouter } from "~/features/notifications/notifications.router";
import { adminRouter } from "~/features/ops/admin.router";
import { presenceRouter } from "~/features/presence/presence.router";
import { rolesRouter } from "~/features/roles/roles.router";
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
  audit: auditRouter,
  admin: adminRouter,
  roles: rolesRouter,
  notifications: notificationsRouter,
});

export type AppRouter = typeof appRouter;
