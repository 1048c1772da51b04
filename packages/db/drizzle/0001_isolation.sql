CREATE TABLE "model_request" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"box_id" text NOT NULL,
	"box_name" text NOT NULL,
	"run_id" text,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"model" text,
	"streamed" boolean DEFAULT false NOT NULL,
	"key_source" text NOT NULL,
	"status" integer NOT NULL,
	"input_tokens" integer DEFAULT 0 NOT NULL,
	"output_tokens" integer DEFAULT 0 NOT NULL,
	"cache_read_tokens" integer DEFAULT 0 NOT NULL,
	"cache_write_tokens" integer DEFAULT 0 NOT NULL,
	"duration_ms" integer NOT NULL,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "box" ADD COLUMN "network_policy" jsonb DEFAULT '{"mode":"internet","domains":[]}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "box_email" ADD COLUMN "authentication" jsonb;--> statement-breakpoint
ALTER TABLE "model_request" ADD CONSTRAINT "model_request_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_request_user_id_created_at_idx" ON "model_request" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "model_request_box_id_created_at_idx" ON "model_request" USING btree ("box_id","created_at");--> statement-breakpoint
CREATE INDEX "model_request_run_id_idx" ON "model_request" USING btree ("run_id");