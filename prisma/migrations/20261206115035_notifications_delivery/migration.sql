-- CreateEnum
CREATE TYPE "NotificationJobKind" AS ENUM ('EMAIL_DIGEST', 'PUSH');

-- CreateEnum
CREATE TYPE "NotificationJobStatus" AS ENUM ('PENDING', 'RUNNING', 'DONE', 'FAILED');

-- AlterTable
ALTER TABLE "messaging_settings" ADD COLUMN     "email_digest_after_minutes" INTEGER NOT NULL DEFAULT 15,
ADD COLUMN     "email_digest_interval_minutes" INTEGER NOT NULL DEFAULT 60;

-- AlterTable
ALTER TABLE "notifications" ADD COLUMN     "message_id" UUID;

-- CreateTable
CREATE TABLE "notification_cursor" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "last_event_id" BIGINT NOT NULL,

    CONSTRAINT "notification_cursor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification_jobs" (
    "id" BIGSERIAL NOT NULL,
    "kind" "NotificationJobKind" NOT NULL,
    "user_id" UUID NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "status" "NotificationJobStatus" NOT NULL DEFAULT 'PENDING',
    "run_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "notification_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "email_digest_state" (
    "user_id" UUID NOT NULL,
    "pending_since" TIMESTAMPTZ(3),
    "last_sent_at" TIMESTAMPTZ(3),
    "covered_until" TIMESTAMPTZ(3),

    CONSTRAINT "email_digest_state_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "push_subscriptions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "endpoint" TEXT NOT NULL,
    "p256dh" TEXT NOT NULL,
    "auth" TEXT NOT NULL,
    "user_agent" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "push_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "notifications_message_id_idx" ON "notifications"("message_id");

-- CreateIndex
CREATE INDEX "notification_jobs_status_run_at_idx" ON "notification_jobs"("status", "run_at");

-- CreateIndex
CREATE INDEX "notification_jobs_user_id_kind_created_at_idx" ON "notification_jobs"("user_id", "kind", "created_at");

-- CreateIndex
CREATE INDEX "email_digest_state_pending_since_idx" ON "email_digest_state"("pending_since");

-- CreateIndex
CREATE UNIQUE INDEX "push_subscriptions_endpoint_key" ON "push_subscriptions"("endpoint");

-- CreateIndex
CREATE INDEX "push_subscriptions_user_id_idx" ON "push_subscriptions"("user_id");

-- CreateIndex
CREATE INDEX "notifications_user_id_updated_at_idx" ON "notifications"("user_id", "updated_at" DESC);

-- AddForeignKey
ALTER TABLE "notification_jobs" ADD CONSTRAINT "notification_jobs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "email_digest_state" ADD CONSTRAINT "email_digest_state_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "push_subscriptions" ADD CONSTRAINT "push_subscriptions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The notifier starts at the present: messages sent before this version notify nobody.
INSERT INTO "notification_cursor" ("id", "last_event_id") SELECT 1, "last_id" FROM "event_counter" WHERE "id" = 1;
