import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_RANKED_CANDIDATES, type SnippetSegment } from "~/features/search/contracts";
import { inSearchTransaction } from "~/features/search/search-transaction";
import { MATCH_START } from "~/features/search/snippet";
import { createDatabase } from "~/server/db/client";
import { codeOf, errorOf } from "../helpers/error-code";
import { startTestServer, TEST_APP_ORIGIN, type TestServer } from "../helpers/test-server";

// messages.search and conversations.search against the real database (PGlite or
// PostgreSQL): the generated tsvector column, its GIN index, websearch syntax,
// ranking, ts_headline passages, membership, deletions and filters.

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

async function person(name: string) {
  const user = await t.createUser({ name });
  const client = await t.client({ userId: user.id, origin: TEST_APP_ORIGIN });
  return { user, api: client.api };
}
type Person = Awaited<ReturnType<typeof person>>;

let sendCounter = 0;
async function send(from: Person, conversationId: string, content: string) {
  sendCounter += 1;
  return from.api.messages.send.mutate({ conversationId, content, clientMessageId: `search-${sendCounter}` });
}

/** A word no other test (or run, on a shared PostgreSQL) uses: a search for it finds only this test's messages. */
function uniqueWord(label: string): string {
  return `${label}${Math.random().toString(36).slice(2, 8).replace(/\d/g, "x")}`;
}

const textOf = (segments: SnippetSegment[]) => segments.map((segment) => segment.text).join("");
const matchesOf = (segments: SnippetSegment[]) => segments.filter((segment) => segment.match).map((segment) => segment.text);

describe("messages.search", () => {
  it("ranks the closer match first and marks the matched words in a passage", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const topic = uniqueWord("kettle");
    const loose = await send(ana, chat.id, `the ${topic} is in the kitchen, and later we should talk about the blue car`);
    const close = await send(ben, chat.id, `blue ${topic} please`);
    await send(ana, chat.id, "nothing to see here");

    const result = await ana.api.messages.search.query({ query: `blue ${topic}` });
    expect(result.items.map((hit) => hit.messageId)).toEqual([close.id, loose.id]);
    expect(result.items[0]!.rank).toBeGreaterThan(result.items[1]!.rank);
    expect(result.items[0]).toMatchObject({ conversationId: chat.id, seq: close.seq, senderId: ben.user.id, senderName: "Ben" });
    expect(textOf(result.items[0]!.snippet)).toBe(`blue ${topic} please`);
    expect(matchesOf(result.items[0]!.snippet)).toEqual(["blue", topic]);
    expect(result.conversations).toEqual([
      {
        id: chat.id,
        type: "DIRECT",
        name: null,
        participants: expect.arrayContaining([expect.objectContaining({ id: ana.user.id }), expect.objectContaining({ id: ben.user.id })]),
      },
    ]);
    expect(result.noSearchableWords).toBe(false);
  });

  it("finds other forms of a word (English stemming) and cuts long messages to a passage around the match", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const filler = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    const sent = await send(ana, chat.id, `${filler} we deployed the build yesterday ${filler}`);

    const result = await ben.api.messages.search.query({ query: "deploying", conversationId: chat.id });
    expect(result.items.map((hit) => hit.messageId)).toEqual([sent.id]);
    const snippet = result.items[0]!.snippet;
    expect(matchesOf(snippet)).toEqual(["deployed"]);
    const text = textOf(snippet);
    expect(text.startsWith("… ")).toBe(true);
    expect(text.endsWith(" …")).toBe(true);
    expect(text.split(/\s+/).length).toBeLessThan(30);
  });

  it("understands quotes, OR and -exclusion", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const a = uniqueWord("alpha");
    const b = uniqueWord("bravo");
    const ab = await send(ana, chat.id, `${a} ${b} together`);
    const ba = await send(ana, chat.id, `${b} then ${a}`);
    const onlyA = await send(ana, chat.id, `${a} alone`);
    const onlyB = await send(ana, chat.id, `${b} alone`);
    const ids = async (query: string) =>
      (await ana.api.messages.search.query({ query, sort: "newest" })).items.map((hit) => hit.messageId).sort();

    expect(await ids(`${a} ${b}`)).toEqual([ab.id, ba.id].sort());
    expect(await ids(`"${a} ${b}"`)).toEqual([ab.id]);
    expect(await ids(`${a} OR ${b}`)).toEqual([ab.id, ba.id, onlyA.id, onlyB.id].sort());
    expect(await ids(`${a} -${b}`)).toEqual([onlyA.id]);
  });

  it("never finds messages of conversations the caller is not in, or has left", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const cy = await person("Cy");
    const secret = uniqueWord("secret");
    const theirs = await ben.api.conversations.createDirect.mutate({ recipientId: cy.user.id });
    await send(ben, theirs.id, `the ${secret} plan`);
    const group = await ana.api.conversations.createGroup.mutate({ name: "Planning", participantIds: [ben.user.id, cy.user.id] });
    await send(ana, group.id, `our ${secret} too`);

    expect((await ana.api.messages.search.query({ query: secret })).items.map((hit) => hit.conversationId)).toEqual([group.id]);
    expect((await ben.api.messages.search.query({ query: secret })).items).toHaveLength(2);
    // Naming someone else's conversation is answered as if it did not exist.
    expect(await codeOf(ana.api.messages.search.query({ query: secret, conversationId: theirs.id }))).toBe("NOT_FOUND");

    await cy.api.conversations.removeParticipant.mutate({ conversationId: group.id, userId: cy.user.id });
    expect((await cy.api.messages.search.query({ query: secret })).items.map((hit) => hit.conversationId)).toEqual([theirs.id]);
    expect(await codeOf(cy.api.messages.search.query({ query: secret, conversationId: group.id }))).toBe("NOT_FOUND");
  });

  it("never finds deleted messages or system messages, and follows edits", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const word = uniqueWord("gone");
    const group = await ana.api.conversations.createGroup.mutate({ name: `Group ${word}`, participantIds: [ben.user.id] });
    const kept = await send(ana, group.id, `${word} stays`);
    const removed = await send(ana, group.id, `${word} goes`);
    await ana.api.messages.delete.mutate({ messageId: removed.id });
    // The group's "created the group" system message names the group (and so the word): not a hit.
    expect((await ben.api.messages.search.query({ query: word })).items.map((hit) => hit.messageId)).toEqual([kept.id]);

    const edited = uniqueWord("edited");
    await ana.api.messages.edit.mutate({ messageId: kept.id, content: `${edited} now` });
    expect((await ben.api.messages.search.query({ query: word })).items).toEqual([]);
    expect((await ben.api.messages.search.query({ query: edited })).items.map((hit) => hit.messageId)).toEqual([kept.id]);
  });

  it("filters by conversation, by sender and by date, and sorts newest first on request", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const cy = await person("Cy");
    const word = uniqueWord("invoice");
    const withBen = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const withCy = await ana.api.conversations.createDirect.mutate({ recipientId: cy.user.id });
    const first = await send(ana, withBen.id, `${word} one`);
    const second = await send(ben, withBen.id, `${word} two`);
    const third = await send(cy, withCy.id, `${word} three`);
    const search = (input: Record<string, unknown>) =>
      ana.api.messages.search.query({ query: word, sort: "newest", ...input }).then((result) => result.items.map((hit) => hit.messageId));

    expect(await search({})).toEqual([third.id, second.id, first.id]);
    expect(await search({ conversationId: withBen.id })).toEqual([second.id, first.id]);
    expect(await search({ fromUserId: ben.user.id })).toEqual([second.id]);
    expect(await search({ fromUserId: ana.user.id, conversationId: withCy.id })).toEqual([]);

    // Dates as stored: move the first message a week back.
    const db = new pg.Client({ connectionString: t.database.connectionString });
    await db.connect();
    try {
      await db.query("UPDATE messages SET created_at = now() - interval '7 days' WHERE id = $1", [first.id]);
    } finally {
      await db.end();
    }
    const threeDaysAgo = new Date(Date.now() - 3 * 24 * 3600_000);
    expect(await search({ after: threeDaysAgo })).toEqual([third.id, second.id]);
    expect(await search({ before: threeDaysAgo })).toEqual([first.id]);
    expect(await search({ after: new Date(Date.now() - 8 * 24 * 3600_000), before: threeDaysAgo })).toEqual([first.id]);
    const refused = await errorOf(search({ after: threeDaysAgo, before: new Date(Date.now() - 8 * 24 * 3600_000) }));
    expect(refused.data.code).toBe("BAD_REQUEST");
  });

  it("pages through results without repeats and refuses a forged cursor", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const word = uniqueWord("page");
    const sent = [];
    for (let i = 0; i < 7; i += 1) sent.push(await send(ana, chat.id, `${word} number ${i}`));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { messageId: string }[]; nextCursor: string | null } = await ana.api.messages.search.query({
        query: word,
        limit: 3,
        cursor,
      });
      seen.push(...page.items.map((hit) => hit.messageId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(sent.map((message) => message.id).sort());

    expect(await codeOf(ana.api.messages.search.query({ query: word, cursor: "bm9wZQ" }))).toBe("BAD_REQUEST");
    expect(await codeOf(ana.api.messages.search.query({ query: word, cursor: Buffer.from("o:99999").toString("base64url") }))).toBe(
      "BAD_REQUEST",
    );
  });

  it("answers injection-shaped and odd queries safely, as plain words", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const word = uniqueWord("robert");
    // Holds every word of the first query below: found, so that query was read as words.
    const sent = await send(ana, chat.id, `${word} tables are fine, do not drop messages`);
    // Holds the other words of the odd queries but not the unique one: a query read as
    // anything but "all of these words" (an OR, a prefix, an injected clause) finds it.
    const decoy = await send(ana, chat.id, "tables script alert drop messages x OR");
    const odd = [
      `${word}'); DROP TABLE messages; --`,
      `${word} & !tables | (x`,
      `${word}:* <-> tables`,
      `<script>alert(1)</script> ${word}`,
      `${word} \\ \\\\ ' " \`  $1 %s`,
      `"${word}`,
      `-${word}`,
      `${word} ${"OR ".repeat(60)}`,
      `${"x".repeat(200)}`,
      `${word} 😀 ﷽ \u202e`,
    ];
    for (const query of odd) {
      const result = await ana.api.messages.search.query({ query: query.slice(0, 200) });
      expect(result.items.map((hit) => hit.messageId)).not.toContain(decoy.id);
      for (const hit of result.items) expect(hit.messageId).toBe(sent.id);
    }
    expect((await ana.api.messages.search.query({ query: odd[0]! })).items.map((hit) => hit.messageId)).toEqual([sent.id]);
    // Still there.
    expect((await ana.api.messages.list.query({ conversationId: chat.id })).items).toHaveLength(2);
    // Exclusions alone name no word to find: answered as such, not as "everything without it".
    expect(await ana.api.messages.search.query({ query: `-${word}` })).toMatchObject({ items: [], noSearchableWords: true });

    expect(await ana.api.messages.search.query({ query: "the and of" })).toMatchObject({ items: [], noSearchableWords: true });
    expect(await ana.api.messages.search.query({ query: "!!! ---" })).toMatchObject({ items: [], noSearchableWords: true });
    expect((await errorOf(ana.api.messages.search.query({ query: "   " }))).data.code).toBe("BAD_REQUEST");
    expect((await errorOf(ana.api.messages.search.query({ query: "a\u0000b" }))).data.code).toBe("BAD_REQUEST");
    expect((await errorOf(ana.api.messages.search.query({ query: "x".repeat(201) }))).data.code).toBe("BAD_REQUEST");
  });

  it("does not let a message fake a highlight with the snippet's marker characters", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const word = uniqueWord("marker");
    await send(ana, chat.id, `${MATCH_START}fake\uE001 ${word}`);
    const [hit] = (await ben.api.messages.search.query({ query: word })).items;
    expect(matchesOf(hit!.snippet)).toEqual([word]);
    expect(textOf(hit!.snippet)).toBe(`fake ${word}`);
  });
});

describe("a common word", () => {
  it("ranks the newest matches and says so; newest-first pages go past them", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    const word = uniqueWord("common");
    const total = MAX_RANKED_CANDIDATES + 30;
    // Written straight to the table: the send limit would take minutes.
    const db = new pg.Client({ connectionString: t.database.connectionString });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO messages (conversation_id, seq, sender_id, content, created_at)
         SELECT $1::uuid, s, $2::uuid, $3 || ' message ' || s, now() - (${total} - s) * interval '1 minute'
           FROM generate_series(1, ${total}) s`,
        [chat.id, ana.user.id, word],
      );
      await db.query(`UPDATE conversations SET last_seq = ${total} WHERE id = $1`, [chat.id]);
    } finally {
      await db.end();
    }

    const ranked = await ben.api.messages.search.query({ query: word, limit: 50 });
    expect(ranked.rankedNewest).toBe(MAX_RANKED_CANDIDATES);
    // All equally relevant: newest first, and none older than the newest MAX_RANKED_CANDIDATES.
    expect(ranked.items[0]!.seq).toBe(total);
    let oldestRanked = Infinity;
    let cursor = ranked.nextCursor;
    let count = ranked.items.length;
    while (cursor) {
      const page = await ben.api.messages.search.query({ query: word, limit: 50, cursor });
      count += page.items.length;
      for (const hit of page.items) oldestRanked = Math.min(oldestRanked, hit.seq);
      cursor = page.nextCursor;
    }
    expect(count).toBe(MAX_RANKED_CANDIDATES);
    expect(oldestRanked).toBe(total - MAX_RANKED_CANDIDATES + 1);

    // Exactly as many matches as are ranked: nothing was left out, so nothing is said.
    const group = await ana.api.conversations.createGroup.mutate({ name: "Exactly enough", participantIds: [ben.user.id] });
    const exact = uniqueWord("exact");
    const db2 = new pg.Client({ connectionString: t.database.connectionString });
    await db2.connect();
    try {
      await db2.query(
        `INSERT INTO messages (conversation_id, seq, sender_id, content)
         SELECT $1::uuid, 1 + s, $2::uuid, $3 || ' ' || s FROM generate_series(1, ${MAX_RANKED_CANDIDATES}) s`,
        [group.id, ana.user.id, exact],
      );
      await db2.query(`UPDATE conversations SET last_seq = ${MAX_RANKED_CANDIDATES + 1} WHERE id = $1`, [group.id]);
    } finally {
      await db2.end();
    }
    expect((await ben.api.messages.search.query({ query: exact, conversationId: group.id })).rankedNewest).toBeNull();

    const newest = await ben.api.messages.search.query({ query: word, sort: "newest", limit: 50, cursor: Buffer.from(`o:${MAX_RANKED_CANDIDATES}`).toString("base64url") });
    expect(newest.rankedNewest).toBeNull();
    expect(newest.items.map((hit) => hit.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
  });
});

describe("the search transaction", () => {
  it("turns JIT off and bounds the statement's time for the search alone, and says a search was too broad", async () => {
    const database = createDatabase(t.database.connectionString, { poolSize: 1 });
    try {
      const [before] = await database.prisma.$queryRaw<{ timeout: string }[]>`SELECT current_setting('statement_timeout') AS timeout`;
      const [inside] = (await inSearchTransaction(
        database.prisma,
        database.prisma.$queryRaw<{ jit: string; timeout: string }[]>`SELECT current_setting('jit') AS jit, current_setting('statement_timeout') AS timeout`,
      ))!;
      expect(inside).toEqual({ jit: "off", timeout: "3s" });
      // The one pooled connection is back to its own settings.
      const [after] = await database.prisma.$queryRaw<{ timeout: string }[]>`SELECT current_setting('statement_timeout') AS timeout`;
      expect(after).toEqual(before);
      expect(before).not.toEqual({ timeout: "3s" });
    } finally {
      await database.close();
    }
  });

  // PGlite (Wasm, one thread) never interrupts a running statement, so there a
  // statement timeout is not enforced; the embedded database serves development.
  it.runIf(Boolean(process.env.DATABASE_URL))("stops a search that runs too long and says it was too broad (PostgreSQL)", async () => {
    const database = createDatabase(t.database.connectionString, { poolSize: 1 });
    try {
      await expect(
        inSearchTransaction(database.prisma, database.prisma.$queryRaw`SELECT pg_sleep(2)::text`, { timeoutMs: 50 }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("too much") });
    } finally {
      await database.close();
    }
  });
});

describe("messages.list around a seq", () => {
  it("loads the messages before and from a seq, and says there is more both ways", async () => {
    const ana = await person("Ana");
    const ben = await person("Ben");
    const chat = await ana.api.conversations.createDirect.mutate({ recipientId: ben.user.id });
    for (let i = 1; i <= 30; i += 1) await send(ana, chat.id, `message ${i}`);

    const middle = await ben.api.messages.list.query({ conversationId: chat.id, aroundSeq: 15, limit: 10 });
    expect(middle.items.map((message) => message.seq)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(middle).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true });

    const start = await ben.api.messages.list.query({ conversationId: chat.id, aroundSeq: 2, limit: 10 });
    // Near either end the other side fills the page.
    expect(start.items.map((message) => message.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(start).toMatchObject({ hasMoreBefore: false, hasMoreAfter: true });

    const end = await ben.api.messages.list.query({ conversationId: chat.id, aroundSeq: 29, limit: 10 });
    expect(end.items.map((message) => message.seq)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(end).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });

    expect(await codeOf(ben.api.messages.list.query({ conversationId: chat.id, aroundSeq: 5, beforeSeq: 9 }))).toBe("BAD_REQUEST");
    const stranger = await person("Stranger");
    expect(await codeOf(stranger.api.messages.list.query({ conversationId: chat.id, aroundSeq: 5 }))).toBe("NOT_FOUND");
  });
});

describe("conversations.search", () => {
  it("finds groups by partial names and people by names with a typo, never the caller by their own name", async () => {
    const tag = uniqueWord("zq");
    const me = await person(`Morgan ${tag}`);
    const alice = await person(`Alice ${tag}`);
    const bob = await person(`Bob ${tag}`);
    const outsider = await person(`Alicia ${tag}`);
    const direct = await me.api.conversations.createDirect.mutate({ recipientId: alice.user.id });
    const group = await me.api.conversations.createGroup.mutate({ name: `Engineering ${tag}`, participantIds: [bob.user.id] });
    await outsider.api.conversations.createDirect.mutate({ recipientId: bob.user.id });
    const ids = async (query: string) => (await me.api.conversations.search.query({ query })).map((conversation) => conversation.id);

    expect(await ids("enginee")).toContain(group.id);
    expect(await ids("Engneering")).toContain(group.id);
    expect(await ids("alice")).toEqual([direct.id]);
    expect(await ids("Alcie")).toContain(direct.id);
    expect(await ids("bo")).toContain(group.id);
    // Everyone here shares the tag, the caller included: only the others' names count,
    // and the outsider's conversation with Bob is not the caller's.
    expect((await ids(tag)).sort()).toEqual([direct.id, group.id].sort());
    expect(await ids("Morgan")).toEqual([]);
    expect(await ids("%")).toEqual([]);
    // The best match first: a name that starts with the text before one alike by trigrams.
    const ranked = await me.api.conversations.search.query({ query: "Alice" });
    expect(ranked[0]?.id).toBe(direct.id);
  });
});
