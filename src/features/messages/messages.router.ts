import { PERMISSIONS } from "~/features/permissions/catalog";
import { okOutput } from "~/features/conversations/contracts";
import { getMessagingRuntime } from "~/features/events/runtime";
import { serviceDeps } from "~/server/trpc/service-deps";
import { permissionProcedure, router, userCallBudget } from "~/server/trpc/trpc";
import {
  editMessageInput,
  listMessagesInput,
  listMessagesOutput,
  messageIdInput,
  messageSchema,
  messageStatusesOutput,
  reactInput,
  sendMessageInput,
  typingInput,
} from "./contracts";
import * as messages from "./messages.service";
import { searchMessagesInput, searchMessagesOutput } from "~/features/search/contracts";
import { searchMessages } from "~/features/search/message-search.service";

const member = permissionProcedure(PERMISSIONS.messagingAccess);

export const messagesRouter = router({
  send: member
    .input(sendMessageInput)
    .output(messageSchema)
    .mutation(({ ctx, input }) => messages.sendMessage(serviceDeps(ctx), ctx.user, input)),

  list: member
    .use(userCallBudget("read"))
    .input(listMessagesInput)
    .output(listMessagesOutput)
    .query(({ ctx, input }) => messages.listMessages(serviceDeps(ctx), ctx.user, input)),

  search: member
    .use(userCallBudget("search"))
    .input(searchMessagesInput)
    .output(searchMessagesOutput)
    .query(({ ctx, input }) => searchMessages(serviceDeps(ctx), ctx.user, input)),

  edit: member
    .input(editMessageInput)
    .output(messageSchema)
    .mutation(({ ctx, input }) => messages.editMessage(serviceDeps(ctx), ctx.user, input)),

  delete: member
    .use(userCallBudget("messageDelete"))
    .input(messageIdInput)
    .output(okOutput)
    .mutation(({ ctx, input }) => messages.deleteMessage(serviceDeps(ctx), ctx.user, input)),

  statuses: member
    .use(userCallBudget("read"))
    .input(messageIdInput)
    .output(messageStatusesOutput)
    .query(({ ctx, input }) => messages.messageStatuses(serviceDeps(ctx), ctx.user, input)),

  typing: member
    .use(userCallBudget("typing"))
    .input(typingInput)
    .output(okOutput)
    .mutation(({ ctx, input }) => getMessagingRuntime().typing.report(ctx.prisma, ctx.user, input)),

  react: member
    .input(reactInput)
    .output(messageSchema)
    .mutation(({ ctx, input }) => messages.toggleReaction(serviceDeps(ctx), ctx.user, input)),
});
