CREATE TYPE "public"."cronjob_overlap" AS ENUM('skip', 'queue');--> statement-breakpoint
CREATE TYPE "public"."cronjob_session_mode" AS ENUM('fresh', 'continue');--> statement-breakpoint
CREATE TYPE "public"."run_status" AS ENUM('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted');--> statement-breakpoint
CREATE TYPE "public"."run_trigger" AS ENUM('chat', 'email', 'cron', 'api');--> statement-breakpoint
ALTER TYPE "public"."email_status" ADD VALUE 'processed' BEFORE 'sent';--> statement-breakpoint
CREATE TABLE "box_run" (
	"id" text PRIMARY KEY NOT NULL,
	"box_id" text NOT NULL,
	"user_id" text NOT NULL,
	"trigger" "run_trigger" NOT NULL,
	"context_type" text NOT NULL,
	"context_id" text NOT NULL,
	"session_id" text,
	"status" "run_status" DEFAULT 'queued' NOT NULL,
	"prompt" text NOT NULL,
	"result" text,
	"error" text,
	"model" text,
	"dispatch" jsonb NOT NULL,
	"max_duration_ms" integer NOT NULL,
	"dispatched_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"duration_ms" integer,
	"input_tokens" integer,
	"output_tokens" integer,
	"cache_read_tokens" integer,
	"cache_write_tokens" integer,
	"cost_usd" real,
	"last_event_seq" integer DEFAULT 0 NOT NULL,
	"email_id" text,
	"cronjob_id" text,
	"cronjob_execution_id" text,
	"retry_of" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "box_run_event" (
	"run_id" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "box_run_event_run_id_seq_pk" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
ALTER TABLE "box_agent_config" ADD COLUMN "max_duration_minutes" integer;--> statement-breakpoint
ALTER TABLE "box_cronjob" ADD COLUMN "overlap" "cronjob_overlap" DEFAULT 'skip' NOT NULL;--> statement-breakpoint
ALTER TABLE "box_cronjob" ADD COLUMN "session_mode" "cronjob_session_mode" DEFAULT 'fresh' NOT NULL;--> statement-breakpoint
ALTER TABLE "box_cronjob" ADD COLUMN "model" text;--> statement-breakpoint
ALTER TABLE "box_cronjob" ADD COLUMN "max_duration_minutes" integer;--> statement-breakpoint
ALTER TABLE "box_cronjob_execution" ADD COLUMN "run_id" text;--> statement-breakpoint
ALTER TABLE "box_cronjob_execution" ADD COLUMN "cost_usd" real;--> statement-breakpoint
ALTER TABLE "box_run" ADD CONSTRAINT "box_run_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_run" ADD CONSTRAINT "box_run_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_run_event" ADD CONSTRAINT "box_run_event_run_id_box_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."box_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "box_run_box_id_created_at_idx" ON "box_run" USING btree ("box_id","created_at");--> statement-breakpoint
CREATE INDEX "box_run_status_idx" ON "box_run" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "box_run_email_id_idx" ON "box_run" USING btree ("email_id") WHERE retry_of IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "box_run_cronjob_execution_id_idx" ON "box_run" USING btree ("cronjob_execution_id") WHERE retry_of IS NULL;--> statement-breakpoint
CREATE INDEX "box_run_cronjob_id_idx" ON "box_run" USING btree ("cronjob_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "box_run_retry_of_idx" ON "box_run" USING btree ("retry_of") WHERE retry_of IS NOT NULL;--> statement-breakpoint
CREATE INDEX "box_run_email_id_all_idx" ON "box_run" USING btree ("email_id","created_at");--> statement-breakpoint
CREATE INDEX "box_cronjob_execution_unfinished_idx" ON "box_cronjob_execution" USING btree ("status") WHERE status in ('pending', 'waking_box', 'running');--> statement-breakpoint
CREATE INDEX "box_email_unfinished_idx" ON "box_email" USING btree ("status") WHERE status in ('received', 'queued', 'delivered');