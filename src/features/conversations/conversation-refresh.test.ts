import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { REFRESH_GAP_MS, refreshConversations } from "./conversation-refresh";

describe("refreshConversations", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function client() {
    const queryClient = new QueryClient();
    const invalidate = vi.spyOn(queryClient, "invalidateQueries").mockResolvedValue(undefined);
    /** How many refreshes ran (each invalidates the list, the details and the unread count). */
    const runs = () => invalidate.mock.calls.length / 3;
    return { queryClient, runs };
  }

  it("refetches at once, then once more after a burst, however many events the burst held", () => {
    const { queryClient, runs } = client();
    refreshConversations(queryClient);
    expect(runs()).toBe(1);
    for (let i = 0; i < 98; i += 1) refreshConversations(queryClient);
    expect(runs()).toBe(1);
    vi.advanceTimersByTime(REFRESH_GAP_MS);
    expect(runs()).toBe(2);
    vi.advanceTimersByTime(10 * REFRESH_GAP_MS);
    expect(runs()).toBe(2);
  });

  it("refetches at once again after a quiet gap, and keeps each query client apart", () => {
    const one = client();
    const two = client();
    refreshConversations(one.queryClient);
    vi.advanceTimersByTime(REFRESH_GAP_MS + 1);
    refreshConversations(one.queryClient);
    refreshConversations(two.queryClient);
    expect(one.runs()).toBe(2);
    expect(two.runs()).toBe(1);
  });
});
