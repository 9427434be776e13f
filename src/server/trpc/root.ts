import { authRouter } from "~/features/auth/auth.router";
import { eventsRouter } from "~/features/events/events.router";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  auth: authRouter,
  events: eventsRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures in-process (server code and tests), with a context built by the caller. */
export const createCaller = createCallerFactory(appRouter);
