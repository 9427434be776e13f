import { PERMISSIONS } from "~/features/permissions/catalog";
import { serviceDeps } from "~/server/trpc/service-deps";
import { permissionProcedure, router, userCallBudget } from "~/server/trpc/trpc";
import { z } from "zod";
import {
  addParticipantsInput,
  conversationIdInput,
  conversationSchema,
  createDirectInput,
  createGroupInput,
  listConversationsInput,
  listConversationsOutput,
  markAsReadInput,
  markAsReadOutput,
  okOutput,
  removeParticipantInput,
  setMutedInput,
  unreadCountOutput,
} from "./contracts";
import * as conversations from "./conversations.service";
import { searchConversationsInput } from "~/features/search/contracts";
import { searchConversations } from "~/features/search/conversation-search.service";

const member = permissionProcedure(PERMISSIONS.messagingAccess);

export const conversationsRouter = router({
  createDirect: member
    .use(userCallBudget("conversationChange"))
    .input(createDirectInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => conversations.createDirect(serviceDeps(ctx), ctx.user, input.recipientId)),

  createGroup: member
    .use(userCallBudget("conversationChange"))
    .input(createGroupInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => conversations.createGroup(serviceDeps(ctx), ctx.user, input)),

  list: member
    .use(userCallBudget("read"))
    .input(listConversationsInput)
    .output(listConversationsOutput)
    .query(({ ctx, input }) => conversations.listConversations(serviceDeps(ctx), ctx.user.id, input)),

  get: member
    .use(userCallBudget("read"))
    .input(conversationIdInput)
    .output(conversationSchema)
    .query(({ ctx, input }) => conversations.getConversation(serviceDeps(ctx), ctx.user.id, input.conversationId)),

  search: member
    .use(userCallBudget("search"))
    .input(searchConversationsInput)
    .output(z.array(conversationSchema))
    .query(({ ctx, input }) => searchConversations(serviceDeps(ctx), ctx.user.id, input.query)),

  addParticipants: member
    .use(userCallBudget("conversationChange"))
    .input(addParticipantsInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => conversations.addParticipants(serviceDeps(ctx), ctx.user, input)),

  removeParticipant: member
    .use(userCallBudget("conversationChange"))
    .input(removeParticipantInput)
    .output(okOutput)
    .mutation(({ ctx, input }) => conversations.removeParticipant(serviceDeps(ctx), ctx.user, input)),

  markAsRead: member
    .use(userCallBudget("readMark"))
    .input(markAsReadInput)
    .output(markAsReadOutput)
    .mutation(({ ctx, input }) => conversations.markAsRead(serviceDeps(ctx), ctx.user, input)),

  unreadCount: member
    .use(userCallBudget("read"))
    .output(unreadCountOutput).query(({ ctx }) => conversations.unreadTotal(serviceDeps(ctx), ctx.user.id)),

  setMuted: member
    .use(userCallBudget("conversationChange"))
    .input(setMutedInput)
    .output(okOutput)
    .mutation(({ ctx, input }) => conversations.setMuted(serviceDeps(ctx), ctx.user, input)),
});
