"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { TRPCClientError } from "@trpc/client";
import { InfoIcon, Loader2Icon } from "lucide-react";
import { useState, type ComponentProps } from "react";
import { useForm, type Control } from "react-hook-form";
import { toast } from "sonner";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import {
  Form,
  FormControl,
  FormDescription,
  FormField,
  FormItem,
  FormLabel,
  FormMessage,
  useFormField,
} from "~/components/ui/form";
import { Input } from "~/components/ui/input";
import { Switch } from "~/components/ui/switch";
import { api } from "~/trpc/react";
import {
  messagingSettingsSchema,
  SETTINGS_KEYS,
  SETTINGS_RANGES,
  type MessagingSettings,
  type MessagingSettingsOutput,
  type SettingsKey,
  type UpdateMessagingSettingsInput,
} from "../contracts";
import { SETTING_LABELS, settingRange } from "../setting-labels";

// The admin form: every setting, checked in the browser with the contract the
// server checks with (messagingSettingsSchema: the fields' rules and "attachments
// need a type"), and saved as the settings that changed (settings.update).

type NumberKey = { [K in SettingsKey]: MessagingSettings[K] extends number ? K : never }[SettingsKey];

function formValues(settings: MessagingSettingsOutput): MessagingSettings {
  const values = {} as Record<SettingsKey, unknown>;
  for (const key of SETTINGS_KEYS) values[key] = settings[key];
  return values as MessagingSettings;
}

function changedSettings(current: MessagingSettings, next: MessagingSettings): UpdateMessagingSettingsInput {
  const changes: Record<string, unknown> = {};
  for (const key of SETTINGS_KEYS) {
    if (JSON.stringify(current[key]) !== JSON.stringify(next[key])) changes[key] = next[key];
  }
  return changes as UpdateMessagingSettingsInput;
}

function isSettingsKey(value: string): value is SettingsKey {
  return (SETTINGS_KEYS as readonly string[]).includes(value);
}

export function MessagingSettingsForm({ initial, canWrite }: { initial: MessagingSettingsOutput; canWrite: boolean }) {
  const utils = api.useUtils();
  const settings = api.settings.get.useQuery(undefined, { initialData: initial, refetchOnWindowFocus: false });
  const update = api.settings.update.useMutation();
  const current = settings.data;

  const form = useForm({
    resolver: zodResolver(messagingSettingsSchema),
    defaultValues: formValues(current),
    mode: "onTouched",
  });
  const saving = form.formState.isSubmitting;

  const onSubmit = form.handleSubmit(async (values) => {
    // Only what this admin edited, compared with what the form was loaded with, so
    // a change saved meanwhile by someone else is not undone by stale values.
    const changes = changedSettings(form.formState.defaultValues as MessagingSettings, values);
    if (Object.keys(changes).length === 0) {
      form.reset(formValues(current));
      return;
    }
    try {
      const saved = await update.mutateAsync(changes);
      utils.settings.get.setData(undefined, saved);
      form.reset(formValues(saved));
      const count = Object.keys(changes).length;
      toast.success("Settings saved", {
        description: `${count} ${count === 1 ? "setting" : "settings"} changed. Everyone's app follows at once.`,
      });
      void utils.settings.history.invalidate();
      void utils.settings.public.invalidate();
    } catch (error) {
      showServerError(error);
    }
  });

  function showServerError(error: unknown) {
    if (!(error instanceof TRPCClientError)) {
      toast.error("The settings were not saved", { description: "We couldn't reach the server. Try again." });
      return;
    }
    const data = error.data as { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | undefined;
    let placed = false;
    for (const [key, messages] of Object.entries(data?.zodError?.fieldErrors ?? {})) {
      if (!isSettingsKey(key) || !messages?.[0]) continue;
      form.setError(key, { type: "server", message: messages[0] }, { shouldFocus: !placed });
      placed = true;
    }
    toast.error("The settings were not saved", { description: placed ? "Check the highlighted fields." : error.message });
  }

  return (
    <Form {...form}>
      <form onSubmit={onSubmit} noValidate aria-busy={saving} aria-label="Messaging settings" className="grid gap-6">
        {!canWrite && (
          <Alert>
            <InfoIcon aria-hidden="true" />
            <AlertDescription>You can see these settings but not change them: that needs the permission to change messaging settings.</AlertDescription>
          </Alert>
        )}
        <fieldset disabled={!canWrite || saving} className="grid min-w-0 gap-6">
          <legend className="sr-only">Messaging settings</legend>
          <Card>
            <CardHeader>
              <CardTitle>
                <h2>Messaging</h2>
              </CardTitle>
              <CardDescription>Whether people can message, and the limits their apps follow.</CardDescription>
            </CardHeader>
            <CardContent className="grid gap-6">
              <SwitchField control={form.control} name="enabled" description="Off hides messaging for everyone; conversations are kept." />
              <div className="grid gap-6 sm:grid-cols-2">
                <NumberField control={form.control} name="maxMessageLength" />
                <NumberField control={form.control} name="maxGroupParticipants" />
                <NumberField control={form.control} name="rateLimitPerMinute" description="Messages one person may send in a minute" />
                <NumberField control={form.control} name="typingIndicatorTimeout" description="How long “typing…” shows without a new key" />
                <NumberField control={form.control} name="messageRetentionDays" description="Older messages are deleted every day" />
              </div>
            </CardContent>
          </Card>

          <Card>
            <CardHeader>
              <CardTitle>
                <h2>Attachments</h2>
              </CardTitle>
              <CardDescription>Files people may add to their messages.</CardDescription>
            </CardHeader>
            <CardContent className="grid gap-6">
              <SwitchField control={form.control} name="allowFileAttachments" description="Let people attach files of the types below." />
              <div className="grid gap-6 sm:grid-cols-2">
                <NumberField control={form.control} name="maxFileSize" />
                <FormField
                  control={form.control}
                  name="allowedFileTypes"
                  render={({ field }) => (
                    <FormItem>
                      <FormLabel>{SETTING_LABELS.allowedFileTypes}</FormLabel>
                      <FormControl>
                        <FileTypesInput value={field.value} onChange={field.onChange} onBlur={field.onBlur} name={field.name} ref={field.ref} />
                      </FormControl>
                      <FormDescription>
                        MIME types separated by commas, such as image/*, application/pdf (at most {SETTINGS_RANGES.allowedFileTypes.max})
                      </FormDescription>
                      <FirstErrorMessage />
                    </FormItem>
                  )}
                />
              </div>
            </CardContent>
          </Card>

          <Card>
            <CardHeader>
              <CardTitle>
                <h2>Email digests</h2>
              </CardTitle>
              <CardDescription>Unread messages sent by email to people who are away.</CardDescription>
            </CardHeader>
            <CardContent className="grid gap-6 sm:grid-cols-2">
              <NumberField
                control={form.control}
                name="emailDigestAfterMinutes"
                description="People who have been offline this long get their unread messages by email (when the server has SMTP configured)"
              />
              <NumberField control={form.control} name="emailDigestIntervalMinutes" description="At most one digest per person in this time" />
            </CardContent>
          </Card>
          {canWrite && (
            <div className="flex justify-end gap-2">
              <Button type="button" variant="outline" disabled={!form.formState.isDirty || saving} onClick={() => form.reset(formValues(current))}>
                Discard changes
              </Button>
              <Button type="submit" disabled={!form.formState.isDirty || saving}>
                {saving && <Loader2Icon className="animate-spin" aria-hidden="true" />}
                Save settings
              </Button>
            </div>
          )}
        </fieldset>
      </form>
    </Form>
  );
}

function NumberField({ control, name, description }: { control: Control<MessagingSettings>; name: NumberKey; description?: string }) {
  return (
    <FormField
      control={control}
      name={name}
      render={({ field }) => (
        <FormItem>
          <FormLabel>{SETTING_LABELS[name]}</FormLabel>
          <FormControl>
            <Input
              type="number"
              inputMode="numeric"
              step={1}
              name={field.name}
              ref={field.ref}
              onBlur={field.onBlur}
              disabled={field.disabled}
              value={Number.isFinite(field.value) ? field.value : ""}
              // An empty or unreadable entry is NaN, which the contract calls "must be a number".
              onChange={(event) => field.onChange(event.target.value === "" ? Number.NaN : event.target.valueAsNumber)}
            />
          </FormControl>
          <FormDescription>
            {description ? `${description}. ` : ""}
            {settingRange(name)}
          </FormDescription>
          <FormMessage />
        </FormItem>
      )}
    />
  );
}

function SwitchField({
  control,
  name,
  description,
}: {
  control: Control<MessagingSettings>;
  name: "enabled" | "allowFileAttachments";
  description: string;
}) {
  return (
    <FormField
      control={control}
      name={name}
      render={({ field }) => (
        <FormItem className="flex items-center justify-between gap-4 rounded-lg border p-3">
          <div className="grid gap-1">
            <FormLabel>{SETTING_LABELS[name]}</FormLabel>
            <FormDescription>{description}</FormDescription>
          </div>
          <FormControl>
            <Switch checked={field.value} onCheckedChange={field.onChange} onBlur={field.onBlur} name={field.name} ref={field.ref} />
          </FormControl>
        </FormItem>
      )}
    />
  );
}

function parseFileTypes(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** A list edited as text ("image/*, application/pdf"); what is typed stays as typed. */
function FileTypesInput({
  value,
  onChange,
  ...props
}: { value: string[]; onChange: (types: string[]) => void } & Omit<ComponentProps<typeof Input>, "value" | "onChange">) {
  const [text, setText] = useState(() => value.join(", "));
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    // The list changed from outside (saved, discarded): show it, unless the text already says it.
    setShown(value);
    if (JSON.stringify(parseFileTypes(text)) !== JSON.stringify(value)) setText(value.join(", "));
  }
  return (
    <Input
      {...props}
      value={text}
      autoComplete="off"
      spellCheck={false}
      onChange={(event) => {
        const types = parseFileTypes(event.target.value);
        setText(event.target.value);
        setShown(types);
        onChange(types);
      }}
    />
  );
}

function firstMessage(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { message, root } = error as { message?: unknown; root?: unknown };
  if (typeof message === "string" && message) return message;
  const fromRoot = firstMessage(root);
  if (fromRoot) return fromRoot;
  if (Array.isArray(error)) {
    for (const item of error) {
      const found = firstMessage(item);
      if (found) return found;
    }
  }
  return undefined;
}

/** FormMessage for a list: its own error, or the first of its items'. */
function FirstErrorMessage() {
  const { error, formMessageId } = useFormField();
  const message = firstMessage(error);
  if (!message) return null;
  return (
    <p data-slot="form-message" id={formMessageId} className="text-destructive text-sm">
      {message}
    </p>
  );
}
