import { authRouter } from "~/features/auth/auth.router";
import { eventsRouter } from "~/features/events/events.router";
import { router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  events: eventsRouter,
});

export type AppRouter = typeof appRouter;
