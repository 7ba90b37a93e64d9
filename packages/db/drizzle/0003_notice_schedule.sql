ALTER TABLE "users" ADD COLUMN "next_notice_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "users_next_notice_idx" ON "users" USING btree ("next_notice_at") WHERE "users"."next_notice_at" is not null;--> statement-breakpoint
-- Users who already have notification settings are looked at by the next tick, which sets their next moment.
UPDATE "users" SET "next_notice_at" = 'epoch' WHERE "preferences" -> 'notifications' IS NOT NULL;
