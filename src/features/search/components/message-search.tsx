"use client";

import { useId, useRef, useState, type KeyboardEvent, type ReactNode, type Ref } from "react";
import { SearchIcon, SlidersHorizontalIcon } from "lucide-react";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { moveFocus, ROW_SELECTOR } from "~/features/conversations/components/conversation-list";
import { conversationTitle } from "~/features/conversations/components/conversation-title";
import { useDebouncedNow } from "~/features/conversations/components/people";
import { api } from "~/trpc/react";
import { MAX_SEARCH_QUERY_LENGTH } from "../contracts";
import { activeFilterCount, messageSearchInput, type MessageSearchState } from "../search-query";
import { SearchFilters } from "./search-filters";
import { RESULT_SELECTOR } from "./search-hits";
import { SearchResults, type ResultActions } from "./search-results";

/** The conversation a search was opened from, for "Only in …". */
function useScope(conversationId: string | undefined, viewerId: string) {
  const conversation = api.conversations.get.useQuery({ conversationId: conversationId ?? "" }, { enabled: conversationId !== undefined });
  if (!conversationId || !conversation.data) return undefined;
  return { conversationId, title: conversationTitle(conversation.data, viewerId) };
}

/**
 * The message search of the panel and of the messages page: a field with a row of
 * filters, and below it the results while there is a query, or `children` (the
 * conversation list) while there is none. Its state lives with the caller, so it
 * survives a visit to a result.
 */
export function MessageSearch({
  viewerId,
  state,
  onStateChange,
  scopeConversationId,
  actions,
  inputRef,
  children,
}: {
  viewerId: string;
  state: MessageSearchState;
  onStateChange: (state: MessageSearchState) => void;
  /** The conversation on screen or the search was opened from: offers "Only in …". */
  scopeConversationId?: string;
  actions: ResultActions;
  inputRef?: Ref<HTMLInputElement>;
  children: ReactNode;
}) {
  const fieldId = useId();
  const filtersId = useId();
  const areaRef = useRef<HTMLDivElement>(null);
  const [filtersOpen, setFiltersOpen] = useState(false);
  const [settled, settleNow] = useDebouncedNow(state.query.trim());
  const scope = useScope(scopeConversationId, viewerId);
  const update = (patch: Partial<MessageSearchState>) => onStateChange({ ...state, ...patch });
  const filterCount = activeFilterCount(state, scope !== undefined);
  const scoped = state.inConversation && scope !== undefined;
  // An emptied field shows the list at once, without waiting for the pause.
  const searching = settled !== "" && state.query.trim() !== "";
  const handlesEscape = state.query !== "" || filtersOpen;

  const focusFirstResult = () => {
    if (areaRef.current) moveFocus(areaRef.current, "Home", `${RESULT_SELECTOR}, ${ROW_SELECTOR}`);
  };
  const onFieldKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      settleNow();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      focusFirstResult();
    }
  };
  // Escape anywhere in the search closes the results (the list comes back) and returns to the field.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== "Escape" || !handlesEscape) return;
    event.preventDefault();
    if (state.query !== "") update({ query: "" });
    else setFiltersOpen(false);
    document.getElementById(fieldId)?.focus();
  };

  return (
    // A dialog around it (the panel) leaves Escape to the search while it has something to close: see escapeBelongsToSearch.
    <div className="flex min-h-0 flex-1 flex-col" data-message-search={handlesEscape ? "open" : "idle"} onKeyDown={onKeyDown}>
      <div className="grid gap-2 px-3 pb-2">
        <div className="flex items-center gap-1">
          <div className="relative min-w-0 flex-1">
            <Label htmlFor={fieldId} className="sr-only">
              Search messages
            </Label>
            <SearchIcon
              className="text-muted-foreground pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2"
              aria-hidden="true"
            />
            <Input
              id={fieldId}
              ref={inputRef}
              type="search"
              placeholder={scoped ? `Search in ${scope.title}` : "Search messages"}
              autoComplete="off"
              enterKeyHint="search"
              maxLength={MAX_SEARCH_QUERY_LENGTH}
              className="pl-8"
              value={state.query}
              onChange={(event) => update({ query: event.target.value })}
              onKeyDown={onFieldKeyDown}
            />
          </div>
          <Button
            type="button"
            variant="ghost"
            size="icon"
            className="relative shrink-0"
            aria-expanded={filtersOpen}
            aria-controls={filtersOpen ? filtersId : undefined}
            aria-label={filterCount > 0 ? `Search filters, ${filterCount} on` : "Search filters"}
            onClick={() => setFiltersOpen((open) => !open)}
          >
            <SlidersHorizontalIcon aria-hidden="true" />
            {filterCount > 0 && (
              <Badge className="absolute -top-1 -right-1 h-4 min-w-4 px-1 text-[10px]" aria-hidden="true">
                {filterCount}
              </Badge>
            )}
          </Button>
        </div>
        {filtersOpen && <SearchFilters id={filtersId} viewerId={viewerId} state={state} onChange={update} scope={scope} />}
      </div>
      <div
        ref={areaRef}
        className="min-h-0 flex-1 overflow-y-auto"
        onKeyDown={(event) => {
          if (searching && moveFocus(event.currentTarget, event.key, RESULT_SELECTOR)) event.preventDefault();
        }}
      >
        {searching ? (
          <SearchResults
            viewerId={viewerId}
            input={messageSearchInput(state, settled, scope?.conversationId)}
            showConversations={!scoped}
            filtered={filterCount > 0}
            actions={actions}
            onSortByNewest={() => update({ sort: "newest" })}
          />
        ) : (
          children
        )}
      </div>
    </div>
  );
}

/** Whether an Escape key event is the search's to handle (clearing it) rather than a surrounding dialog's. */
export function escapeBelongsToSearch(event: Event): boolean {
  return event.target instanceof Element && event.target.closest('[data-message-search="open"]') !== null;
}
