import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { getQueryKey } from "@trpc/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { REFRESH_GAP_MS } from "~/features/conversations/conversation-refresh";
import type { Message } from "./contracts";
import type { Timeline } from "./timeline";
import { api } from "~/trpc/react";
import { mergeFetchedTimeline, placeLatest, placeWindow, refetchUnloadedTimeline, timelineInput, upsertInTimeline } from "./timeline-cache";

describe("refetchUnloadedTimeline", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("starts the unloaded timeline's fetch again at once, and once more after a burst, for that conversation only", () => {
    const queryClient = new QueryClient();
    const invalidate = vi.spyOn(queryClient, "invalidateQueries").mockResolvedValue(undefined);
    vi.spyOn(queryClient, "cancelQueries").mockResolvedValue(undefined);
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

  it("really starts a new fetch when the first page is still on its way (not the one in flight, which may predate the message)", async () => {
    vi.useRealTimers();
    const queryClient = new QueryClient();
    const queryKey = getQueryKey(api.messages.list, timelineInput("c3"), "query");
    const answers: ((page: Timeline) => void)[] = [];
    const observer = new QueryObserver(queryClient, { queryKey, queryFn: () => new Promise<Timeline>((resolve) => answers.push(resolve)) });
    const unsubscribe = observer.subscribe(() => undefined);
    await vi.waitFor(() => expect(answers).toHaveLength(1));
    refetchUnloadedTimeline(queryClient, "c3");
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    // The first answer (without the message) comes late and does not count; the second does.
    answers[0]!({ items: [], hasMoreBefore: false, hasMoreAfter: false });
    answers[1]!({ items: [], hasMoreBefore: false, hasMoreAfter: true });
    await vi.waitFor(() => expect(queryClient.getQueryData<Timeline>(queryKey)?.hasMoreAfter).toBe(true));
    unsubscribe();
  });
});

describe("a window in the cache", () => {
  // The cache entry as the conversation view holds it: fetched pages merge through its structuralSharing.
  const conversationId = "00000000-0000-4000-8000-0000000000cc";
  const message = (seq: number): Message => ({
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    conversationId,
    seq,
    senderId: null,
    senderName: null,
    senderImage: null,
    type: "TEXT",
    content: `message ${seq}`,
    metadata: null,
    clientMessageId: null,
    createdAt: new Date(seq * 1000),
    editedAt: null,
    deletedAt: null,
    reactions: [],
  });
  const page = (from: number, to: number, hasMoreBefore: boolean, hasMoreAfter: boolean): Timeline => ({
    items: Array.from({ length: to - from + 1 }, (_, index) => message(from + index)),
    hasMoreBefore,
    hasMoreAfter,
  });
  const seqs = (timeline: Timeline | undefined) => timeline?.items.map((item) => item.seq) ?? [];

  function setup() {
    const queryClient = new QueryClient();
    const queryKey = ["timeline", conversationId];
    const fetchNewest = (timeline: Timeline) =>
      queryClient.fetchQuery({ queryKey, queryFn: () => timeline, staleTime: 0, structuralSharing: mergeFetchedTimeline as never });
    const utils = {
      messages: {
        list: {
          getData: () => queryClient.getQueryData<Timeline>(queryKey),
          setData: (_input: unknown, updater: (held: Timeline | undefined) => Timeline | undefined) => queryClient.setQueryData(queryKey, updater),
        },
      },
    } as unknown as Parameters<typeof placeWindow>[0];
    return { queryClient, queryKey, fetchNewest, utils, held: () => queryClient.getQueryData<Timeline>(queryKey) };
  }

  it("holds what the helpers write as it is, though React Query passes it through the merge for fetched pages", async () => {
    const { fetchNewest, utils, held } = setup();
    await fetchNewest(page(151, 200, true, false));
    placeWindow(utils, conversationId, page(75, 124, true, true));
    expect(seqs(held())).toEqual(Array.from({ length: 50 }, (_, index) => 75 + index));
    expect(held()?.hasMoreAfter).toBe(true);

    // A reconnect fetches the newest page again: the reader stays in the window.
    await fetchNewest(page(152, 201, true, false));
    expect(seqs(held())[0]).toBe(75);
    expect(held()?.hasMoreAfter).toBe(true);

    // A live message beyond the window is not added after the gap.
    upsertInTimeline(utils, message(202));
    expect(seqs(held())).not.toContain(202);

    placeLatest(utils, conversationId, page(153, 202, true, false));
    expect(seqs(held())[0]).toBe(153);
    expect(held()?.hasMoreAfter).toBe(false);
    upsertInTimeline(utils, message(203));
    expect(seqs(held()).at(-1)).toBe(203);
  });
});
