"use client";

import { useEffect, useId, useState, useSyncExternalStore, type ReactNode } from "react";
import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { getMutationKey } from "@trpc/react-query";
import { ArrowLeftIcon, BellOffIcon, Loader2Icon } from "lucide-react";
import { toast } from "sonner";
import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "~/components/ui/card";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { NativeSelect, NativeSelectOption } from "~/components/ui/native-select";
import { Skeleton } from "~/components/ui/skeleton";
import { Switch } from "~/components/ui/switch";
import { conversationTitle } from "~/features/conversations/components/conversation-title";
import { serverMessage } from "~/features/conversations/components/people";
import { useViewer } from "~/features/messages/components/messaging-shell";
import { api, type RouterInputs } from "~/trpc/react";
import { CATEGORY_CHANNELS, CATEGORY_LABELS, notificationCategorySchema, type NotificationCategory, type PreferencesOutput } from "../contracts";
import { currentPushSubscription, pushSupported, subscribeToPush, unsubscribeFromPush } from "../push/browser-push";

// The person's notification settings (/messages/settings): where each kind of
// notification reaches them, quiet hours, push on this browser, and the
// conversations they muted. Every change saves at once.

type PreferencesChange = RouterInputs["notifications"]["preferences"]["update"];
type Channel = keyof PreferencesOutput["categories"]["SOCIAL"];

const CATEGORIES = notificationCategorySchema.options;
const CHANNELS: { key: Channel; label: string }[] = [
  { key: "inApp", label: "In-app" },
  { key: "email", label: "Email" },
  { key: "push", label: "Push" },
];
/** What the server assumes until someone picks a zone. */
const SERVER_DEFAULT_TIME_ZONE = "UTC";

function minutes(count: number): string {
  return `${count} ${count === 1 ? "minute" : "minutes"}`;
}

function withChange(current: PreferencesOutput, change: PreferencesChange): PreferencesOutput {
  return {
    ...current,
    categories: {
      SOCIAL: { ...current.categories.SOCIAL, ...change.categories?.SOCIAL },
      SYSTEM: { ...current.categories.SYSTEM, ...change.categories?.SYSTEM },
    },
    doNotDisturb: { ...current.doNotDisturb, ...change.doNotDisturb },
  };
}

/**
 * preferences.update, shown at once and undone if the server refuses. With saves
 * overlapping, only the last answer is kept: an earlier one lacks the later change.
 */
function useSavePreferences() {
  const utils = api.useUtils();
  const queryClient = useQueryClient();
  return api.notifications.preferences.update.useMutation({
    onMutate: async (change) => {
      await utils.notifications.preferences.get.cancel();
      const before = utils.notifications.preferences.get.getData();
      utils.notifications.preferences.get.setData(undefined, (current) => (current ? withChange(current, change) : current));
      return { before };
    },
    onSuccess: (saved) => {
      const saving = queryClient.isMutating({ mutationKey: getMutationKey(api.notifications.preferences.update) });
      if (saving <= 1) utils.notifications.preferences.get.setData(undefined, saved);
    },
    onError: (error, _change, context) => {
      if (context?.before) utils.notifications.preferences.get.setData(undefined, context.before);
      toast.error("Your change was not saved", { description: serverMessage(error) });
    },
  });
}

/** The page: a screen of its own beside the conversation list (on a phone, instead of it). */
export function NotificationSettings() {
  const viewer = useViewer();
  const preferences = api.notifications.preferences.get.useQuery();
  const data = preferences.data;

  return (
    <div className="min-h-0 flex-1 overflow-y-auto">
      <div className="mx-auto grid w-full max-w-2xl gap-6 p-4 md:p-6">
        <div className="flex items-start gap-2">
          <Button asChild variant="ghost" size="icon" className="-ml-2 md:hidden">
            <Link href="/messages" aria-label="Back to conversations">
              <ArrowLeftIcon aria-hidden="true" />
            </Link>
          </Button>
          <div className="grid gap-1">
            <h1 className="text-2xl font-semibold">Notification settings</h1>
            <p className="text-muted-foreground text-sm">What you are told about, where, and when.</p>
          </div>
        </div>
        {preferences.isPending ? (
          <div className="grid gap-6" role="status" aria-label="Loading your notification settings">
            <Skeleton className="h-56 w-full rounded-xl" />
            <Skeleton className="h-48 w-full rounded-xl" />
          </div>
        ) : preferences.isError ? (
          <Alert variant="destructive">
            <AlertDescription>Your notification settings could not be loaded. {serverMessage(preferences.error)}</AlertDescription>
          </Alert>
        ) : data ? (
          <>
            <ChannelPreferences preferences={data} />
            <DoNotDisturbSettings doNotDisturb={data.doNotDisturb} saved={data.doNotDisturbSaved} />
            <BrowserPush available={data.available.push} vapidPublicKey={data.vapidPublicKey} />
          </>
        ) : null}
        <MutedConversations viewerId={viewer.id} />
      </div>
    </div>
  );
}

function SectionCard({ id, title, description, children, footer }: { id: string; title: string; description: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <Card aria-labelledby={id}>
      <CardHeader>
        <CardTitle>
          <h2 id={id}>{title}</h2>
        </CardTitle>
        <CardDescription>{description}</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">{children}</CardContent>
      {footer && <CardFooter>{footer}</CardFooter>}
    </Card>
  );
}

function ChannelPreferences({ preferences }: { preferences: PreferencesOutput }) {
  const save = useSavePreferences();
  const id = useId();
  const unavailableNote: Partial<Record<Channel, string>> = {
    ...(!preferences.available.email && { email: `${id}-email-note` }),
    ...(!preferences.available.push && { push: `${id}-push-note` }),
  };
  const { afterMinutes, intervalMinutes } = preferences.emailDigest;

  const change = (category: NotificationCategory, channel: Channel, on: boolean) => {
    const channelLabel = CHANNELS.find((entry) => entry.key === channel)!.label;
    const categories = { [category]: { [channel]: on } } as PreferencesChange["categories"];
    save.mutate(
      { categories },
      { onSuccess: () => void toast.success(`${CATEGORY_LABELS[category].label}: ${channelLabel.toLowerCase()} notifications ${on ? "on" : "off"}`) },
    );
  };

  return (
    <SectionCard
      id={`${id}-heading`}
      title="Where notifications reach you"
      description="In the app's bell, by email, or as a push to your devices, for each kind of notification."
      footer={
        preferences.available.email ? (
          <p className="text-muted-foreground text-sm">
            If you have been offline for {minutes(afterMinutes)}, unread messages are emailed to you, at most once every{" "}
            {minutes(intervalMinutes)}.
          </p>
        ) : undefined
      }
    >
      {CATEGORIES.map((category) => {
        const { label, description } = CATEGORY_LABELS[category];
        return (
          <div
            key={category}
            role="group"
            aria-labelledby={`${id}-${category}`}
            aria-describedby={`${id}-${category}-description`}
            className="grid gap-3 rounded-lg border p-3 sm:grid-cols-[1fr_auto] sm:items-center"
          >
            <div className="grid gap-1">
              <span id={`${id}-${category}`} className="text-sm font-medium">
                {label}
              </span>
              <span id={`${id}-${category}-description`} className="text-muted-foreground text-sm">
                {description}
              </span>
            </div>
            <div className="flex flex-wrap gap-x-5 gap-y-2">
              {CHANNELS.filter(({ key }) => CATEGORY_CHANNELS[category].includes(key)).map(({ key, label: channelLabel }) => {
                const switchId = `${id}-${category}-${key}`;
                const note = unavailableNote[key];
                return (
                  <div key={key} className="flex items-center gap-2">
                    <Switch
                      id={switchId}
                      checked={preferences.categories[category][key]}
                      disabled={note !== undefined}
                      aria-describedby={note}
                      onCheckedChange={(on) => change(category, key, on)}
                    />
                    <Label htmlFor={switchId}>{channelLabel}</Label>
                  </div>
                );
              })}
            </div>
          </div>
        );
      })}
      {(unavailableNote.email || unavailableNote.push) && (
        <ul className="text-muted-foreground grid gap-1 text-sm">
          {unavailableNote.email && <li id={unavailableNote.email}>Email is not set up on this server.</li>}
          {unavailableNote.push && <li id={unavailableNote.push}>Push is not set up on this server.</li>}
        </ul>
      )}
    </SectionCard>
  );
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || SERVER_DEFAULT_TIME_ZONE;
}

/** Every zone this browser knows, with the saved one even if it does not. */
function timeZoneChoices(saved: string): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    // An older browser: the saved zone and UTC only.
  }
  const others = [...new Set([...zones, saved])].filter((zone) => zone !== SERVER_DEFAULT_TIME_ZONE).sort();
  return [SERVER_DEFAULT_TIME_ZONE, ...others];
}

function DoNotDisturbSettings({ doNotDisturb, saved }: { doNotDisturb: PreferencesOutput["doNotDisturb"]; saved: boolean }) {
  const save = useSavePreferences();
  const id = useId();
  const [zones] = useState(() => timeZoneChoices(doNotDisturb.timeZone));
  const choices = zones.includes(doNotDisturb.timeZone) ? zones : [doNotDisturb.timeZone, ...zones];

  const setEnabled = (enabled: boolean) => {
    // Never saved (the server's default zone): this browser's zone is the better guess.
    const zone = browserTimeZone();
    const adoptZone = enabled && !saved && zone !== doNotDisturb.timeZone;
    const timeZone = adoptZone ? zone : doNotDisturb.timeZone;
    save.mutate(
      { doNotDisturb: adoptZone ? { enabled, timeZone } : { enabled } },
      {
        onSuccess: () =>
          void toast.success(
            enabled ? `Do not disturb is on, ${doNotDisturb.start}–${doNotDisturb.end} (${timeZone})` : "Do not disturb is off",
          ),
      },
    );
  };
  const saveTime = (which: "start" | "end", value: string) => {
    save.mutate(
      { doNotDisturb: { [which]: value } },
      { onSuccess: () => void toast.success(`Do not disturb ${which === "start" ? "starts" : "ends"} at ${value}`) },
    );
  };

  return (
    <SectionCard
      id={`${id}-heading`}
      title="Do not disturb"
      description="During these hours new messages do not appear in the bell or as pushes. Email digests still include them later."
    >
      <div className="flex items-center justify-between gap-4 rounded-lg border p-3">
        <div className="grid gap-1">
          <Label htmlFor={`${id}-enabled`}>Do not disturb</Label>
          <span className="text-muted-foreground text-sm">Every day, from the start time to the end time.</span>
        </div>
        <Switch id={`${id}-enabled`} checked={doNotDisturb.enabled} onCheckedChange={setEnabled} />
      </div>
      <div className="grid gap-4 sm:grid-cols-3">
        <TimeField label="From" saved={doNotDisturb.start} onSave={(value) => saveTime("start", value)} />
        <TimeField label="Until" saved={doNotDisturb.end} onSave={(value) => saveTime("end", value)} />
        <div className="grid gap-2">
          <Label htmlFor={`${id}-zone`}>Time zone</Label>
          <NativeSelect
            id={`${id}-zone`}
            value={doNotDisturb.timeZone}
            onChange={(event) => {
              const timeZone = event.target.value;
              save.mutate({ doNotDisturb: { timeZone } }, { onSuccess: () => void toast.success(`Time zone set to ${timeZone}`) });
            }}
          >
            {choices.map((zone) => (
              <NativeSelectOption key={zone} value={zone}>
                {zone.replaceAll("_", " ")}
              </NativeSelectOption>
            ))}
          </NativeSelect>
        </div>
      </div>
    </SectionCard>
  );
}

/** A time saved when the person leaves the field (typing "2230" passes through 22:03 on the way). */
function TimeField({ label, saved, onSave }: { label: string; saved: string; onSave: (value: string) => void }) {
  const id = useId();
  const [draft, setDraft] = useState(saved);
  const [shown, setShown] = useState(saved);
  if (saved !== shown) {
    // Saved elsewhere, or put back after a refusal.
    setShown(saved);
    setDraft(saved);
  }
  const commit = () => {
    if (draft === saved) return;
    // Half-typed or cleared: the saved time comes back.
    if (!TIME.test(draft)) return setDraft(saved);
    onSave(draft);
  };
  return (
    <div className="grid gap-2">
      <Label htmlFor={id}>{label}</Label>
      <Input
        id={id}
        type="time"
        required
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={commit}
        onKeyDown={(event) => {
          if (event.key === "Enter") commit();
        }}
      />
    </div>
  );
}

type PushState = "checking" | "on" | "off" | "unknown";

const subscribeToNothing = () => () => {};

function BrowserPush({ available, vapidPublicKey }: { available: boolean; vapidPublicKey: string | null }) {
  const id = useId();
  const supported = useSyncExternalStore(subscribeToNothing, pushSupported, () => false);
  const usable = available && vapidPublicKey !== null && supported;
  const [state, setState] = useState<PushState>("checking");
  const [busy, setBusy] = useState(false);
  const subscribe = api.notifications.push.subscribe.useMutation();
  const unsubscribe = api.notifications.push.unsubscribe.useMutation();

  useEffect(() => {
    if (!usable) return;
    let current = true;
    currentPushSubscription().then(
      (subscription) => current && setState(subscription ? "on" : "off"),
      () => current && setState("unknown"),
    );
    return () => {
      current = false;
    };
  }, [usable]);

  const enable = async () => {
    if (!vapidPublicKey) return;
    setBusy(true);
    try {
      const { endpoint, p256dh, auth } = await subscribeToPush(vapidPublicKey);
      await subscribe.mutateAsync({ endpoint, keys: { p256dh, auth } });
      setState("on");
      toast.success("Push is on for this browser");
    } catch (error) {
      toast.error("Push could not be turned on", { description: error instanceof Error ? serverMessage(error) : undefined });
    } finally {
      setBusy(false);
    }
  };
  const disable = async () => {
    setBusy(true);
    try {
      const endpoint = await unsubscribeFromPush();
      if (endpoint) await unsubscribe.mutateAsync({ endpoint });
      setState("off");
      toast.success("Push is off for this browser");
    } catch (error) {
      toast.error("Push could not be turned off", { description: error instanceof Error ? serverMessage(error) : undefined });
    } finally {
      setBusy(false);
    }
  };

  let status: string;
  if (!available || !vapidPublicKey) status = "Push is not set up on this server.";
  else if (!supported) status = "This browser cannot receive push notifications here (it needs HTTPS, and on iPhone the app added to the home screen).";
  else if (state === "checking") status = "Checking this browser…";
  else if (state === "on") status = "This browser receives push notifications.";
  else if (state === "off") status = "This browser does not receive push notifications.";
  else status = "This browser's push subscription could not be read.";

  return (
    <SectionCard
      id={`${id}-heading`}
      title="Browser push"
      description="Notifications on this device while Chatline is closed or in the background (the Push switches above choose which)."
    >
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="text-sm" role="status">
          {status}
        </p>
        {usable && state !== "checking" && (
          <Button variant={state === "on" ? "outline" : "default"} disabled={busy} onClick={() => void (state === "on" ? disable() : enable())}>
            {busy && <Loader2Icon className="animate-spin" aria-hidden="true" />}
            {state === "on" ? "Disable" : "Enable push on this browser"}
          </Button>
        )}
      </div>
    </SectionCard>
  );
}

const CONVERSATIONS_PAGE = 100;

function MutedConversations({ viewerId }: { viewerId: string }) {
  const id = useId();
  const utils = api.useUtils();
  const conversations = api.conversations.list.useInfiniteQuery(
    { limit: CONVERSATIONS_PAGE, mutedOnly: true },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const muted = (conversations.data?.pages ?? []).flatMap((page) => page.items).filter((conversation) => conversation.muted);
  const setMuted = api.conversations.setMuted.useMutation({
    onSuccess: () => void utils.conversations.invalidate(),
    onError: (error) => void toast.error("The conversation is still muted", { description: serverMessage(error) }),
  });

  return (
    <SectionCard
      id={`${id}-heading`}
      title="Muted conversations"
      description="Muted conversations never notify you. Mute one from its menu in the conversation's header."
    >
      {conversations.isPending ? (
        <Skeleton className="h-10 w-full" />
      ) : conversations.isError ? (
        <p role="alert" className="text-destructive text-sm">
          Your conversations could not be loaded. {serverMessage(conversations.error)}
        </p>
      ) : muted.length === 0 ? (
        <p className="text-muted-foreground text-sm">
          You have not muted any conversation.
        </p>
      ) : (
        <ul aria-label="Muted conversations" className="grid gap-1">
          {muted.map((conversation) => {
            const title = conversationTitle(conversation, viewerId);
            const unmuting = setMuted.isPending && setMuted.variables?.conversationId === conversation.id;
            return (
              <li key={conversation.id} className="flex items-center gap-3 rounded-md border px-3 py-2">
                <BellOffIcon className="text-muted-foreground size-4 shrink-0" aria-hidden="true" />
                <Link href={`/messages/${conversation.id}`} className="min-w-0 flex-1 truncate text-sm font-medium underline-offset-4 hover:underline">
                  {title}
                </Link>
                <Button
                  variant="outline"
                  size="sm"
                  aria-label={`Unmute ${title}`}
                  disabled={unmuting}
                  onClick={() =>
                    setMuted.mutate(
                      { conversationId: conversation.id, muted: false },
                      { onSuccess: () => void toast.success(`Notifications for ${title} are on.`) },
                    )
                  }
                >
                  {unmuting && <Loader2Icon className="animate-spin" aria-hidden="true" />}
                  Unmute
                </Button>
              </li>
            );
          })}
        </ul>
      )}
      {conversations.hasNextPage && (
        <Button
          variant="ghost"
          size="sm"
          className="justify-self-start"
          disabled={conversations.isFetchingNextPage}
          onClick={() => void conversations.fetchNextPage()}
        >
          {conversations.isFetchingNextPage && <Loader2Icon className="animate-spin" aria-hidden="true" />}
          Show more
        </Button>
      )}
    </SectionCard>
  );
}
