import { afterEach, beforeAll } from "vitest";
import { invalidateMessagingLimits } from "~/features/settings/settings.service";
import type { MessagingSettings } from "~/generated/prisma/client";
import type { Db } from "~/server/db/client";
import type { TestServer } from "./test-server";

// The messaging settings are one row (id 1) that tests change through
// settings.update or Prisma; these put it back as it was.

export interface SettingsSnapshot {
  /** The row as it was when the snapshot was taken. */
  row: MessagingSettings;
  /** Writes the row back (every setting and who changed it last) and forgets this process's cached limits. */
  restore(): Promise<void>;
}

export async function snapshotSettings(prisma: Db): Promise<SettingsSnapshot> {
  const row = await prisma.messagingSettings.findUniqueOrThrow({ where: { id: 1 } });
  return {
    row,
    async restore() {
      const { id: _id, updatedAt: _updatedAt, ...values } = row;
      await prisma.messagingSettings.update({ where: { id: 1 }, data: values });
      invalidateMessagingLimits();
    },
  };
}

/**
 * Every test of the file starts from the settings as they were after the file's
 * `beforeAll`: takes a snapshot in a `beforeAll` of its own and restores it after
 * each test. Call it after the `beforeAll` that starts the server (before hooks run
 * in the order they were registered). `initial` is the snapshot's row, once taken.
 */
export function restoreSettingsAfterEach(server: () => TestServer): { readonly initial: MessagingSettings } {
  let snapshot: SettingsSnapshot | undefined;
  beforeAll(async () => {
    snapshot = await snapshotSettings(server().server.database.prisma);
  });
  afterEach(async () => {
    await snapshot?.restore();
  });
  return {
    get initial() {
      if (!snapshot) throw new Error("restoreSettingsAfterEach: no snapshot yet (read `initial` from a test or a later hook)");
      return snapshot.row;
    },
  };
}
