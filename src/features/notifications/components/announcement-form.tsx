"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { TRPCClientError } from "@trpc/client";
import { Loader2Icon, SendIcon } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { toast } from "sonner";
import { z } from "zod";
import { Button } from "~/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "~/components/ui/card";
import { Form, FormControl, FormDescription, FormField, FormItem, FormLabel, FormMessage } from "~/components/ui/form";
import { Input } from "~/components/ui/input";
import { NativeSelect, NativeSelectOption } from "~/components/ui/native-select";
import { Textarea } from "~/components/ui/textarea";
import { api } from "~/trpc/react";
import { sendSystemNotificationInput, SYSTEM_NOTIFICATION_LIMITS, type SendSystemNotificationInput } from "../contracts";

// An admin's announcement (notifications.sendSystem): a notice in the bell of
// everyone, or of one role's members. The fields follow the procedure's contract,
// with an empty link meaning none and the audience picked from a list.

const EVERYONE = "everyone";

const announcementFormSchema = z.object({
  title: sendSystemNotificationInput.shape.title,
  body: z.string().trim().max(SYSTEM_NOTIFICATION_LIMITS.body),
  link: z.string().superRefine((value, context) => {
    if (value.trim() === "") return;
    const checked = sendSystemNotificationInput.shape.link.safeParse(value);
    for (const issue of checked.error?.issues ?? []) context.addIssue({ code: "custom", message: issue.message });
  }),
  /** EVERYONE, or a role's id. */
  audience: z.string(),
});
type AnnouncementForm = z.infer<typeof announcementFormSchema>;
type FieldName = keyof AnnouncementForm;

const EMPTY: AnnouncementForm = { title: "", body: "", link: "", audience: EVERYONE };

function toInput(values: AnnouncementForm): SendSystemNotificationInput {
  return {
    title: values.title,
    body: values.body,
    link: values.link.trim() || null,
    audience: values.audience === EVERYONE ? { kind: "everyone" } : { kind: "role", roleId: values.audience },
  };
}

function isFieldName(name: string): name is FieldName {
  return name in EMPTY;
}

function people(count: number): string {
  return `${count} ${count === 1 ? "person" : "people"}`;
}

/** An announcement to everyone or to the members of one role. */
export function AnnouncementForm() {
  const roles = api.notifications.audienceRoles.useQuery();
  const send = api.notifications.sendSystem.useMutation();
  const [sentTo, setSentTo] = useState<{ title: string; recipients: number } | null>(null);
  const form = useForm<AnnouncementForm>({ resolver: zodResolver(announcementFormSchema), defaultValues: EMPTY, mode: "onTouched" });
  const sending = form.formState.isSubmitting;

  const onSubmit = form.handleSubmit(async (values) => {
    setSentTo(null);
    try {
      const { recipients } = await send.mutateAsync(toInput(values));
      setSentTo({ title: values.title.trim(), recipients });
      toast.success(`Sent to ${people(recipients)}`);
      form.reset(EMPTY);
    } catch (error) {
      showServerError(error);
    }
  });

  function showServerError(error: unknown) {
    if (!(error instanceof TRPCClientError)) {
      toast.error("The announcement was not sent", { description: "We couldn't reach the server. Try again." });
      return;
    }
    const data = error.data as { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | undefined;
    let placed = false;
    for (const [name, messages] of Object.entries(data?.zodError?.fieldErrors ?? {})) {
      if (!isFieldName(name) || !messages?.[0]) continue;
      form.setError(name, { type: "server", message: messages[0] }, { shouldFocus: !placed });
      placed = true;
    }
    toast.error("The announcement was not sent", { description: placed ? "Check the highlighted fields." : error.message });
  }

  return (
    <Card aria-labelledby="announcement-heading">
      <CardHeader>
        <CardTitle>
          <h2 id="announcement-heading">New announcement</h2>
        </CardTitle>
        <CardDescription>
          It appears in the bell of each person in the audience, and as a push where they allowed it. People who turned
          announcements off in their notification settings do not get it.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <Form {...form}>
          <form onSubmit={onSubmit} noValidate aria-busy={sending} aria-label="New announcement" className="grid gap-6">
            <fieldset disabled={sending} className="grid min-w-0 gap-6">
              <legend className="sr-only">Announcement</legend>
              <FormField
                control={form.control}
                name="title"
                render={({ field }) => (
                  <FormItem>
                    <FormLabel>Title</FormLabel>
                    <FormControl>
                      <Input {...field} autoComplete="off" maxLength={SYSTEM_NOTIFICATION_LIMITS.title} />
                    </FormControl>
                    <FormMessage />
                  </FormItem>
                )}
              />
              <FormField
                control={form.control}
                name="body"
                render={({ field }) => (
                  <FormItem>
                    <FormLabel>Message</FormLabel>
                    <FormControl>
                      <Textarea {...field} rows={4} maxLength={SYSTEM_NOTIFICATION_LIMITS.body} />
                    </FormControl>
                    <FormDescription>Optional. Plain text, up to {SYSTEM_NOTIFICATION_LIMITS.body} characters.</FormDescription>
                    <FormMessage />
                  </FormItem>
                )}
              />
              <div className="grid gap-6 sm:grid-cols-2">
                <FormField
                  control={form.control}
                  name="link"
                  render={({ field }) => (
                    <FormItem>
                      <FormLabel>Link</FormLabel>
                      <FormControl>
                        <Input {...field} autoComplete="off" spellCheck={false} placeholder="/messages" />
                      </FormControl>
                      <FormDescription>Optional. A page of this app the notice opens.</FormDescription>
                      <FormMessage />
                    </FormItem>
                  )}
                />
                <FormField
                  control={form.control}
                  name="audience"
                  render={({ field }) => (
                    <FormItem>
                      <FormLabel>Audience</FormLabel>
                      <FormControl>
                        <NativeSelect {...field} aria-busy={roles.isFetching}>
                          <NativeSelectOption value={EVERYONE}>Everyone</NativeSelectOption>
                          {(roles.data?.roles ?? []).map((role) => (
                            <NativeSelectOption key={role.id} value={role.id}>
                              {role.name} ({people(role.memberCount)})
                            </NativeSelectOption>
                          ))}
                        </NativeSelect>
                      </FormControl>
                      <FormDescription>
                        Everyone with an account, or the members of one role.
                      </FormDescription>
                      <FormMessage />
                    </FormItem>
                  )}
                />
              </div>
              <div className="flex flex-wrap items-center justify-end gap-3">
                {sentTo && (
                  <p role="status" className="text-muted-foreground mr-auto text-sm">
                    Sent to {people(sentTo.recipients)}: “{sentTo.title}”
                  </p>
                )}
                <Button type="submit">
                  {sending ? <Loader2Icon className="animate-spin" aria-hidden="true" /> : <SendIcon aria-hidden="true" />}
                  Send announcement
                </Button>
              </div>
            </fieldset>
          </form>
        </Form>
      </CardContent>
    </Card>
  );
}
