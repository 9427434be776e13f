-- CreateTable
CREATE TABLE "conversation_memberships" (
    "id" BIGSERIAL NOT NULL,
    "conversation_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "joined_event_id" BIGINT NOT NULL,
    "left_event_id" BIGINT,

    CONSTRAINT "conversation_memberships_pkey" PRIMARY KEY ("id")
);

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
    "installation_id" UUID NOT NULL DEFAULT gen_random_uuid(),

    CONSTRAINT "event_counter_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "conversation_memberships_user_id_conversation_id_idx" ON "conversation_memberships"("user_id", "conversation_id");

-- CreateIndex
CREATE INDEX "conversation_memberships_conversation_id_idx" ON "conversation_memberships"("conversation_id");

-- CreateIndex
CREATE INDEX "events_conversation_id_id_idx" ON "events"("conversation_id", "id");

-- CreateIndex
CREATE INDEX "events_user_id_id_idx" ON "events"("user_id", "id");

-- CreateIndex
CREATE INDEX "events_message_id_idx" ON "events"("message_id");

-- AddForeignKey
ALTER TABLE "conversation_memberships" ADD CONSTRAINT "conversation_memberships_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "conversation_memberships" ADD CONSTRAINT "conversation_memberships_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The counter row: event ids start at 1
INSERT INTO "event_counter" ("id", "last_id") VALUES (1, 0);
