import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { toWireMessage } from "~/features/messages/message-mapper";
import { MessageWriter } from "~/features/messages/message-writer";
import type { StoredEvent } from "~/server/realtime/event-store";
import { codeOf } from "../helpers/error-code";
import { collectEvents } from "../helpers/event-collector";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// The group commit behind messages.send: sends written together in one statement
// must come out exactly as if each had been written alone.

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

/** A writer of its own whose published events are kept for the test. */
function capturingWriter() {
  const published: StoredEvent[][] = [];
  const writer = new MessageWriter({
    prisma: t.server.database.prisma,
    realtime: { publish: async (events) => void published.push(events) },
  });
  return { writer, published };
}

async function group(names: string[]) {
  const people = await Promise.all(names.map((name) => t.createUser({ name })));
  const owner = await t.client({ userId: people[0]!.id, origin: TEST_APP_ORIGIN });
  const conversation = await owner.api.conversations.createGroup.mutate({
    name: names.join(", "),
    participantIds: people.slice(1).map((p) => p.id),
  });
  return { people, conversation, owner };
}

describe("the message writer", () => {
  it("writes sends of one turn together, each as if alone: gap-free seqs, one event each, the same message everywhere", async () => {
    const first = await group(["Ana", "Ben", "Cleo"]);
    const second = await group(["Dev", "Eli"]);
    const outsider = await t.createUser({ name: "Zed" });
    const { writer, published } = capturingWriter();

    const sends = [
      ...Array.from({ length: 12 }, (_, i) => ({
        senderId: first.people[i % 3]!.id,
        conversationId: first.conversation.id,
        clientMessageId: `first-${i}`,
        content: `first ${i}`,
      })),
      ...Array.from({ length: 5 }, (_, i) => ({
        senderId: second.people[i % 2]!.id,
        conversationId: second.conversation.id,
        clientMessageId: `second-${i}`,
        content: `second ${i}`,
      })),
      { senderId: outsider.id, conversationId: first.conversation.id, clientMessageId: "outsider-1", content: "let me in" },
    ];
    const results = await Promise.all(sends.map((send) => writer.write(send)));

    // One statement for the whole turn.
    expect(published).toHaveLength(1);
    const outsiderResult = results.pop();
    expect(outsiderResult).toBeNull();
    const stored = results.map((message) => message!);
    // Seqs follow the order of arrival within each conversation, gap-free.
    const firstSeqs = stored.filter((m) => m.conversationId === first.conversation.id).map((m) => m.seq);
    const secondSeqs = stored.filter((m) => m.conversationId === second.conversation.id).map((m) => m.seq);
    const baseFirst = firstSeqs[0]!;
    expect(firstSeqs).toEqual(Array.from({ length: 12 }, (_, i) => baseFirst + i));
    expect(secondSeqs).toEqual(Array.from({ length: 5 }, (_, i) => secondSeqs[0]! + i));

    // The answer, the live event, the stored event and the history agree field for field.
    const events = published[0]!;
    expect(events.map((e) => e.messageId)).toEqual(stored.map((m) => m.id));
    const ids = events.map((e) => BigInt(e.id));
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + BigInt(i)));
    const rows = await t.server.database.prisma.event.findMany({
      where: { messageId: { in: stored.map((m) => m.id) } },
      orderBy: { id: "asc" },
    });
    expect(rows.map((row) => row.payload)).toEqual(events.map((e) => e.payload));
    const history = await t.server.database.prisma.message.findMany({
      where: { id: { in: stored.map((m) => m.id) } },
      include: { sender: { select: { name: true, image: true } } },
    });
    for (const [index, message] of stored.entries()) {
      expect(events[index]!.payload).toEqual({ type: "message.created", message: toWireMessage(message) });
      const row = history.find((h) => h.id === message.id)!;
      expect(message).toMatchObject({ senderName: row.sender!.name, createdAt: row.createdAt, content: row.content });
    }

    // The conversation and each sender's position point at the batch's last message.
    const conversation = await t.server.database.prisma.conversation.findUniqueOrThrow({ where: { id: first.conversation.id } });
    expect(conversation).toMatchObject({ lastSeq: baseFirst + 11, lastMessagePreview: "first 11", lastMessageSenderId: first.people[2]!.id });
    const positions = await t.server.database.prisma.conversationParticipant.findMany({
      where: { conversationId: first.conversation.id },
      orderBy: { lastReadSeq: "asc" },
    });
    expect(positions.map((p) => [p.lastReadSeq, p.lastDeliveredSeq])).toEqual([
      [baseFirst + 9, baseFirst + 9],
      [baseFirst + 10, baseFirst + 10],
      [baseFirst + 11, baseFirst + 11],
    ]);
  });

  it("stores a repeated client message id once, within one batch and across batches", async () => {
    const { people, conversation } = await group(["Fay", "Gus"]);
    const { writer } = capturingWriter();
    const send = { senderId: people[0]!.id, conversationId: conversation.id, clientMessageId: "same", content: "once" };
    const [a, b, c] = await Promise.all([writer.write(send), writer.write(send), writer.write(send)]);
    expect(a).not.toBeNull();
    // The repeats stored nothing: the service answers them with the original.
    expect([b, c]).toEqual([null, null]);
    expect(await writer.write(send)).toBeNull();
    expect(await t.server.database.prisma.message.count({ where: { conversationId: conversation.id, type: "TEXT" } })).toBe(1);
  });

  it("does not let one send the database refuses fail the others of its batch", async () => {
    const { people, conversation } = await group(["Hal", "Ida"]);
    const { writer } = capturingWriter();
    const good = (n: number) => ({ senderId: people[0]!.id, conversationId: conversation.id, clientMessageId: `ok-${n}`, content: `fine ${n}` });
    // The contract refuses NUL; written straight to the writer, PostgreSQL does.
    const bad = { senderId: people[1]!.id, conversationId: conversation.id, clientMessageId: "nul", content: "a\u0000b" };
    const results = await Promise.allSettled([writer.write(good(1)), writer.write(bad), writer.write(good(2))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const seqs = await t.server.database.prisma.message.findMany({
      where: { conversationId: conversation.id, type: "TEXT" },
      select: { seq: true, content: true },
      orderBy: { seq: "asc" },
    });
    // After the group's creation (seq 1), with no gap where the refused send was.
    expect(seqs).toEqual([
      { seq: 2, content: "fine 1" },
      { seq: 3, content: "fine 2" },
    ]);
  });

  it("stores half an emoji as the replacement character, and says so in the answer and the event", async () => {
    const { people, conversation } = await group(["Uma", "Vic"]);
    const { writer, published } = capturingWriter();
    // A client cut "😀" in two: a lone high surrogate, which jsonb would refuse.
    const sent = await writer.write({ senderId: people[0]!.id, conversationId: conversation.id, clientMessageId: "half", content: "hi \uD83D" });
    expect(sent?.content).toBe("hi \uFFFD");
    const row = await t.server.database.prisma.message.findUniqueOrThrow({ where: { id: sent!.id } });
    expect(row.content).toBe("hi \uFFFD");
    expect((published[0]![0]!.payload.message as { content: string }).content).toBe("hi \uFFFD");
  });

  it("delivers live a send that spelled the conversation's id in capitals, and answers with the stored spelling", async () => {
    const { people, conversation } = await group(["Wes", "Xia"]);
    const [wes, xia] = await Promise.all(people.map((person) => t.client({ userId: person.id, origin: TEST_APP_ORIGIN })));
    const xiaEvents = collectEvents(xia!);
    await xiaEvents.ready();
    const sent = await wes!.api.messages.send.mutate({
      conversationId: conversation.id.toUpperCase(),
      content: "capitals",
      clientMessageId: "caps-1",
    });
    expect(sent.conversationId).toBe(conversation.id);
    await vi.waitFor(() => expect(xiaEvents.ofType("message.created").map((e) => e.message.id)).toContain(sent.id));
    expect(xiaEvents.ofType("message.created").find((e) => e.message.id === sent.id)?.message.conversationId).toBe(conversation.id);
    xiaEvents.stop();
  });

  it("refuses NUL in a message at the edge, with a clear error", async () => {
    const { people, conversation } = await group(["Jo", "Kim"]);
    const jo = await t.client({ userId: people[0]!.id, origin: TEST_APP_ORIGIN });
    const refused = jo.api.messages.send.mutate({ conversationId: conversation.id, content: "a\u0000b", clientMessageId: "nul-edge" });
    expect(await codeOf(refused)).toBe("BAD_REQUEST");
  });
});

describe.runIf(isPostgres())("the message writer against a concurrent removal (PostgreSQL)", () => {
  it("refuses a send from a member whose removal commits while the send waits for their row", async () => {
    const { people, conversation } = await group(["Lea", "Max", "Ned"]);
    const { writer } = capturingWriter();
    const remover = new pg.Client({ connectionString: t.database.connectionString });
    await remover.connect();
    try {
      await remover.query("BEGIN");
      await remover.query("UPDATE conversation_participants SET left_at = now() WHERE conversation_id = $1 AND user_id = $2", [
        conversation.id,
        people[1]!.id,
      ]);
      const send = writer.write({ senderId: people[1]!.id, conversationId: conversation.id, clientMessageId: "late", content: "too late" });
      // The send is now waiting on Max's participant row.
      await waitForLockWait(remover);
      await remover.query("COMMIT");
      expect(await send).toBeNull();
    } finally {
      await remover.end();
    }
    expect(await t.server.database.prisma.message.count({ where: { conversationId: conversation.id, type: "TEXT" } })).toBe(0);
  });
});

function isPostgres(): boolean {
  return Boolean(process.env.DATABASE_URL);
}

async function waitForLockWait(client: pg.Client): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { rows } = await client.query<{ waiting: number }>(
      "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows[0]!.waiting > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the send never waited for the locked row");
}
