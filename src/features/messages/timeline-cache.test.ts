import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { REFRESH_GAP_MS } from "~/features/conversations/conversation-refresh";
import { refetchUnloadedTimeline } from "./timeline-cache";

describe("refetchUnloadedTimeline", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("starts the unloaded timeline's fetch again at once, and once more after a burst, for that conversation only", () => {
    const queryClient = new QueryClient();
    const invalidate = vi.spyOn(queryClient, "invalidateQueries").mockResolvedValue(undefined);
    refetchUnloadedTimeline(queryClient, "c1");
    expect(invalidate).toHaveBeenCalledTimes(1);
    const [filters] = invalidate.mock.calls[0]!;
    expect(filters).toMatchObject({ exact: true });
    expect(JSON.stringify(filters?.queryKey)).toContain('"conversationId":"c1"');
    for (let i = 0; i < 20; i += 1) refetchUnloadedTimeline(queryClient, "c1");
    refetchUnloadedTimeline(queryClient, "c2");
    expect(invalidate).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(REFRESH_GAP_MS);
    expect(invalidate).toHaveBeenCalledTimes(3);
  });
});
