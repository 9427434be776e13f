-- AlterTable
ALTER TABLE "conversation_participants" ADD COLUMN     "joined_event_id" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "left_event_id" BIGINT;

-- CreateTable
CREATE TABLE "events" (
    "id" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "conversation_id" UUID,
    "user_id" UUID,
    "message_id" UUID,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_counter" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "last_id" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "event_counter_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "events_conversation_id_id_idx" ON "events"("conversation_id", "id");

-- CreateIndex
CREATE INDEX "events_user_id_id_idx" ON "events"("user_id", "id");

-- CreateIndex
CREATE INDEX "events_message_id_idx" ON "events"("message_id");

-- The counter row: event ids start at 1
INSERT INTO "event_counter" ("id", "last_id") VALUES (1, 0);
