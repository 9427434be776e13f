-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "btree_gin";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- AlterTable
-- Generated and stored (not an expression index): the index holds exactly what the
-- row holds, so a match needs no recheck that recomputes to_tsvector. Null for
-- deleted and system messages: they are never found. English stemming ("deploys"
-- finds "deployed"). Adding it rewrites the table once.
ALTER TABLE "messages" ADD COLUMN "search_vector" tsvector
  GENERATED ALWAYS AS (
    CASE WHEN "deleted_at" IS NULL AND "type" = 'TEXT' THEN to_tsvector('english'::regconfig, "content") END
  ) STORED;

-- CreateIndex
CREATE INDEX "conversations_name_trgm_idx" ON "conversations" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "messages_search_idx" ON "messages" USING GIN ("conversation_id" uuid_ops, "search_vector");

-- CreateIndex
CREATE INDEX "users_name_trgm_idx" ON "users" USING GIN ("name" gin_trgm_ops);
