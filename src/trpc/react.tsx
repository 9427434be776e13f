"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createWSClient, httpBatchLink, loggerLink, splitLink, wsLink } from "@trpc/client";
import { createTRPCReact } from "@trpc/react-query";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { useState, type ReactNode } from "react";
import superjson from "superjson";
import type { AppRouter } from "~/server/trpc/root";
import { goesOverWebSocket, TRPC_HTTP_PATH, TRPC_WS_PATH, reconnectDelayMs } from "./shared";

export const api = createTRPCReact<AppRouter>();
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      // Live data arrives over the event subscription; refetching on every focus
      // would only double the load.
      queries: { staleTime: 30_000, refetchOnWindowFocus: false },
    },
  });
}

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}${TRPC_WS_PATH}`;
}

function makeTrpcClient() {
  // The socket authenticates with the session cookie the browser sends on the
  // upgrade request; it opens lazily on the first subscription.
  const wsClient = createWSClient({
    url: wsUrl,
    retryDelayMs: reconnectDelayMs,
    lazy: { enabled: true, closeMs: 0 },
    keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 10_000 },
  });
  return api.createClient({
    links: [
      loggerLink({
        enabled: (op) =>
          process.env.NODE_ENV === "development" && op.direction === "down" && op.result instanceof Error,
      }),
      splitLink({
        condition: goesOverWebSocket,
        true: wsLink({ client: wsClient, transformer: superjson }),
        false: httpBatchLink({ url: TRPC_HTTP_PATH, transformer: superjson }),
      }),
    ],
  });
}

/** The one data provider of the app, mounted in the root layout. */
export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(makeTrpcClient);
  return (
    <api.Provider client={trpcClient} queryClient={queryClient}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </api.Provider>
  );
}
