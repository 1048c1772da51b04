CREATE TYPE "public"."ledger_kind" AS ENUM('model', 'media');--> statement-breakpoint
CREATE TABLE "budget_alert" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"scope" text NOT NULL,
	"period" text NOT NULL,
	"threshold" integer NOT NULL,
	"spent_usd" numeric(12, 6) NOT NULL,
	"cap_usd" numeric(12, 2) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_entry" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"box_id" text NOT NULL,
	"box_name" text NOT NULL,
	"run_id" text,
	"trigger" "run_trigger",
	"kind" "ledger_kind" NOT NULL,
	"provider" text NOT NULL,
	"model" text,
	"capability" text,
	"input_tokens" integer DEFAULT 0 NOT NULL,
	"output_tokens" integer DEFAULT 0 NOT NULL,
	"cache_read_tokens" integer DEFAULT 0 NOT NULL,
	"cache_write_tokens" integer DEFAULT 0 NOT NULL,
	"units" numeric(14, 3),
	"unit" text,
	"cost_usd" numeric(14, 6),
	"price_version" text,
	"source_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"user_id" text NOT NULL,
	"box_id" text NOT NULL,
	"box_name" text NOT NULL,
	"day" date NOT NULL,
	"kind" "ledger_kind" NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"trigger" text DEFAULT '' NOT NULL,
	"entries" integer DEFAULT 0 NOT NULL,
	"unpriced_entries" integer DEFAULT 0 NOT NULL,
	"input_tokens" numeric(20, 0) DEFAULT 0 NOT NULL,
	"output_tokens" numeric(20, 0) DEFAULT 0 NOT NULL,
	"cache_read_tokens" numeric(20, 0) DEFAULT 0 NOT NULL,
	"cache_write_tokens" numeric(20, 0) DEFAULT 0 NOT NULL,
	"media_calls" integer DEFAULT 0 NOT NULL,
	"cost_usd" numeric(16, 6) DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_daily_user_id_box_id_day_kind_model_trigger_pk" PRIMARY KEY("user_id","box_id","day","kind","model","trigger")
);
--> statement-breakpoint
CREATE TABLE "user_budget" (
	"user_id" text PRIMARY KEY NOT NULL,
	"monthly_usd" numeric(12, 2),
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "box" ADD COLUMN "monthly_budget_usd" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "box_agent_config" ADD COLUMN "max_budget_usd" numeric(10, 2);--> statement-breakpoint
ALTER TABLE "box_agent_config" ADD COLUMN "max_turns" integer;--> statement-breakpoint
ALTER TABLE "budget_alert" ADD CONSTRAINT "budget_alert_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entry" ADD CONSTRAINT "ledger_entry_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_budget" ADD CONSTRAINT "user_budget_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "budget_alert_once_idx" ON "budget_alert" USING btree ("user_id","scope","period","threshold");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entry_source_id_idx" ON "ledger_entry" USING btree ("source_id");--> statement-breakpoint
CREATE INDEX "ledger_entry_user_id_created_at_idx" ON "ledger_entry" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "ledger_entry_box_id_created_at_idx" ON "ledger_entry" USING btree ("box_id","created_at");--> statement-breakpoint
CREATE INDEX "ledger_entry_run_id_idx" ON "ledger_entry" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "usage_daily_user_id_day_idx" ON "usage_daily" USING btree ("user_id","day");--> statement-breakpoint
CREATE INDEX "usage_daily_box_id_day_idx" ON "usage_daily" USING btree ("box_id","day");