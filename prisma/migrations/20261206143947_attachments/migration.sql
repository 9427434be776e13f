-- CreateEnum
CREATE TYPE "AttachmentStatus" AS ENUM ('UPLOADING', 'READY');

-- CreateTable
CREATE TABLE "attachments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "conversation_id" UUID NOT NULL,
    "uploader_id" UUID,
    "message_id" UUID,
    "status" "AttachmentStatus" NOT NULL DEFAULT 'UPLOADING',
    "file_name" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "width" INTEGER,
    "height" INTEGER,
    "storage_key" TEXT NOT NULL,
    "thumbnail_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attachments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attachment_file_deletions" (
    "storage_key" TEXT NOT NULL,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attachment_file_deletions_pkey" PRIMARY KEY ("storage_key")
);

-- CreateIndex
CREATE UNIQUE INDEX "attachments_storage_key_key" ON "attachments"("storage_key");

-- CreateIndex
CREATE INDEX "attachments_message_id_idx" ON "attachments"("message_id");

-- CreateIndex
CREATE INDEX "attachments_thumbnail_key_idx" ON "attachments"("thumbnail_key");

-- CreateIndex
CREATE INDEX "attachments_status_created_at_idx" ON "attachments"("status", "created_at");

-- AddForeignKey
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_uploader_id_fkey" FOREIGN KEY ("uploader_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Whatever deletes an attachment row (a deleted message, retention, a deleted
-- conversation through its cascade), its files are queued for deletion from the
-- storage, which the database cannot reach: the sweep empties this queue. A rule,
-- not a trigger: migrations are run statement by statement, split at every
-- semicolon, which a trigger function's body cannot do without. A rule does not
-- apply to a DELETE inside WITH (PostgreSQL refuses it): attachments are never
-- deleted that way.
CREATE RULE "attachments_queue_files" AS ON DELETE TO "attachments" DO ALSO
  INSERT INTO "attachment_file_deletions" ("storage_key")
  SELECT key FROM unnest(ARRAY[OLD."storage_key", OLD."thumbnail_key"]) AS key
   WHERE key IS NOT NULL
  ON CONFLICT DO NOTHING;
