import { PERMISSIONS } from "~/features/permissions/catalog";
import { getRealtime } from "~/server/realtime";
import { authedProcedure, permissionProcedure, router } from "~/server/trpc/trpc";
import {
  messagingSettingsOutput,
  publicMessagingSettingsSchema,
  settingsHistoryInput,
  settingsHistoryOutput,
  updateMessagingSettingsInput,
} from "./contracts";
import * as settings from "./settings.service";

export const settingsRouter = router({
  /** Any signed-in user: whether messaging is on and the limits the client follows. */
  public: authedProcedure.output(publicMessagingSettingsSchema).query(({ ctx }) => settings.getPublicSettings(ctx.prisma)),

  get: permissionProcedure(PERMISSIONS.messagingSettingsRead)
    .output(messagingSettingsOutput)
    .query(({ ctx }) => settings.getMessagingSettings(ctx.prisma)),

  /** Takes effect on every instance at once; recorded in the audit log. */
  update: permissionProcedure(PERMISSIONS.messagingSettingsWrite)
    .input(updateMessagingSettingsInput)
    .output(messagingSettingsOutput)
    .mutation(({ ctx, input }) =>
      settings.updateMessagingSettings(
        { prisma: ctx.prisma, bus: getRealtime().bus, log: ctx.log },
        { userId: ctx.user.id, ip: ctx.ip, userAgent: ctx.userAgent },
        input,
      ),
    ),

  /** The recorded changes (who, when, each field before and after), newest first. */
  history: permissionProcedure(PERMISSIONS.messagingSettingsRead)
    .input(settingsHistoryInput)
    .output(settingsHistoryOutput)
    .query(({ ctx, input }) => settings.listSettingsHistory(ctx.prisma, input)),
});
