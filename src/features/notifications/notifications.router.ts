import { okOutput } from "~/features/conversations/contracts";
import { PERMISSIONS } from "~/features/permissions/catalog";
import { serviceDeps } from "~/server/trpc/service-deps";
import { authedProcedure, permissionProcedure, router, userCallBudget } from "~/server/trpc/trpc";
import {
  audienceRolesOutput,
  changedCountOutput,
  deleteNotificationInput,
  listNotificationsInput,
  listNotificationsOutput,
  markReadInput,
  preferencesOutput,
  pushSubscribeInput,
  pushUnsubscribeInput,
  sendSystemNotificationInput,
  sendSystemNotificationOutput,
  unreadCountOutput,
  updatePreferencesInput,
} from "./contracts";
import * as notifications from "./notifications.service";
import { notificationChannels } from "./runtime";

// Everyone signed in has a bell (announcements reach people without messaging
// access too); admins with messaging:admin send announcements.
const signedIn = authedProcedure;

export const notificationsRouter = router({
  list: signedIn
    .use(userCallBudget("read"))
    .input(listNotificationsInput)
    .output(listNotificationsOutput)
    .query(({ ctx, input }) => notifications.listNotifications(ctx.prisma, ctx.user.id, input)),

  unreadCount: signedIn
    .use(userCallBudget("read"))
    .output(unreadCountOutput)
    .query(({ ctx }) => notifications.unreadCount(ctx.prisma, ctx.user.id)),

  markRead: signedIn
    .use(userCallBudget("readMark"))
    .input(markReadInput)
    .output(changedCountOutput)
    .mutation(({ ctx, input }) => notifications.markRead(serviceDeps(ctx), ctx.user.id, [...new Set(input.ids)])),

  markAllRead: signedIn
    .use(userCallBudget("readMark"))
    .output(changedCountOutput)
    .mutation(({ ctx }) => notifications.markAllRead(serviceDeps(ctx), ctx.user.id)),

  delete: signedIn
    .use(userCallBudget("readMark"))
    .input(deleteNotificationInput)
    .output(okOutput)
    .mutation(({ ctx, input }) => notifications.deleteNotification(serviceDeps(ctx), ctx.user.id, input.id)),

  preferences: router({
    get: signedIn
      .use(userCallBudget("read"))
      .output(preferencesOutput)
      .query(({ ctx }) => notifications.getPreferences(ctx.prisma, ctx.user.id, notificationChannels())),

    update: signedIn
      .use(userCallBudget("settingsChange"))
      .input(updatePreferencesInput)
      .output(preferencesOutput)
      .mutation(({ ctx, input }) => notifications.updatePreferences(ctx.prisma, ctx.user.id, input, notificationChannels())),
  }),

  push: router({
    subscribe: signedIn
      .use(userCallBudget("settingsChange"))
      .input(pushSubscribeInput)
      .output(okOutput)
      .mutation(({ ctx, input }) =>
        notifications.subscribePush(ctx.prisma, ctx.user.id, input, ctx.userAgent ?? null, notificationChannels()),
      ),

    unsubscribe: signedIn
      .use(userCallBudget("settingsChange"))
      .input(pushUnsubscribeInput)
      .output(okOutput)
      .mutation(({ ctx, input }) => notifications.unsubscribePush(ctx.prisma, ctx.user.id, input.endpoint)),
  }),

  audienceRoles: permissionProcedure(PERMISSIONS.messagingAdmin)
    .use(userCallBudget("read"))
    .output(audienceRolesOutput)
    .query(({ ctx }) => notifications.audienceRoles(ctx.prisma)),

  sendSystem: permissionProcedure(PERMISSIONS.messagingAdmin)
    .use(userCallBudget("settingsChange"))
    .input(sendSystemNotificationInput)
    .output(sendSystemNotificationOutput)
    .mutation(async ({ ctx, input }) => {
      const sent = await notifications.sendSystemNotification(serviceDeps(ctx), ctx.user, input, notificationChannels());
      return { recipients: sent.recipients };
    }),
});
