DROP INDEX "entries_user_date_idx";--> statement-breakpoint
CREATE INDEX "entries_deleted_idx" ON "entries" USING btree ("deleted_at") WHERE "entries"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "metrics_deleted_idx" ON "metrics" USING btree ("deleted_at") WHERE "metrics"."deleted_at" is not null;--> statement-breakpoint
CREATE INDEX "entries_user_date_idx" ON "entries" USING btree ("user_id","date",coalesce("time", '00:00:00'::time),"id") WHERE "entries"."deleted_at" is null;