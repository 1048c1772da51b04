CREATE TYPE "public"."ai_capability" AS ENUM('image', 'text_to_speech', 'speech_to_text');--> statement-breakpoint
CREATE TYPE "public"."box_status" AS ENUM('pending', 'deploying', 'running', 'error', 'deleting');--> statement-breakpoint
CREATE TYPE "public"."agent_trigger_type" AS ENUM('email', 'cron', 'session');--> statement-breakpoint
CREATE TYPE "public"."cronjob_execution_status" AS ENUM('pending', 'waking_box', 'running', 'completed', 'failed');--> statement-breakpoint
CREATE TYPE "public"."deploy_step_status" AS ENUM('pending', 'running', 'completed', 'failed', 'skipped');--> statement-breakpoint
CREATE TYPE "public"."email_direction" AS ENUM('inbound', 'outbound');--> statement-breakpoint
CREATE TYPE "public"."email_status" AS ENUM('received', 'queued', 'delivered', 'sent', 'failed', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."sender_policy" AS ENUM('anyone', 'allowlist');--> statement-breakpoint
CREATE TYPE "public"."env_var_type" AS ENUM('plain', 'secret');--> statement-breakpoint
CREATE TABLE "ai_usage" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"box_id" text,
	"provider" text NOT NULL,
	"capability" "ai_capability" NOT NULL,
	"units" numeric(14, 3) NOT NULL,
	"unit" text NOT NULL,
	"cost_usd" numeric(12, 6) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider_id" text NOT NULL,
	"user_id" text NOT NULL,
	"access_token" text,
	"refresh_token" text,
	"id_token" text,
	"access_token_expires_at" timestamp with time zone,
	"refresh_token_expires_at" timestamp with time zone,
	"scope" text,
	"password" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limit" (
	"id" text PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"count" integer NOT NULL,
	"last_request" bigint NOT NULL,
	CONSTRAINT "rate_limit_key_unique" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "session" (
	"id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"token" text NOT NULL,
	"ip_address" text,
	"user_agent" text,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_token_unique" UNIQUE("token")
);
--> statement-breakpoint
CREATE TABLE "user" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"email_verified" boolean DEFAULT false NOT NULL,
	"image" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "verification" (
	"id" text PRIMARY KEY NOT NULL,
	"identifier" text NOT NULL,
	"value" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "box" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"subdomain" text NOT NULL,
	"status" "box_status" DEFAULT 'pending' NOT NULL,
	"error_message" text,
	"sprite_name" text,
	"sprite_url" text,
	"skills" text[] DEFAULT '{}' NOT NULL,
	"deploy_id" text,
	"access_password" text,
	"last_deployed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "box_subdomain_unique" UNIQUE("subdomain"),
	CONSTRAINT "box_sprite_name_unique" UNIQUE("sprite_name")
);
--> statement-breakpoint
CREATE TABLE "box_agent_config" (
	"id" text PRIMARY KEY NOT NULL,
	"box_id" text NOT NULL,
	"trigger_type" "agent_trigger_type" NOT NULL,
	"model" text NOT NULL,
	"system_prompt" text,
	"mcp_servers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "box_cronjob" (
	"id" text PRIMARY KEY NOT NULL,
	"box_id" text NOT NULL,
	"name" text NOT NULL,
	"schedule" text NOT NULL,
	"prompt" text NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"last_run_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "box_cronjob_execution" (
	"id" text PRIMARY KEY NOT NULL,
	"cronjob_id" text NOT NULL,
	"box_id" text NOT NULL,
	"status" "cronjob_execution_status" DEFAULT 'pending' NOT NULL,
	"scheduled_for" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"duration_ms" integer,
	"error_message" text,
	"session_id" text,
	"result_excerpt" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "box_deploy_step" (
	"id" text PRIMARY KEY NOT NULL,
	"box_id" text NOT NULL,
	"deploy_id" text NOT NULL,
	"step" text NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"status" "deploy_step_status" DEFAULT 'pending' NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"duration_ms" integer,
	"log_excerpt" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "box_email" (
	"id" text PRIMARY KEY NOT NULL,
	"box_id" text NOT NULL,
	"direction" "email_direction" NOT NULL,
	"status" "email_status" NOT NULL,
	"message_id" text NOT NULL,
	"in_reply_to" text,
	"references" text[] DEFAULT '{}' NOT NULL,
	"thread_id" text NOT NULL,
	"from_address" text NOT NULL,
	"to_addresses" text[] NOT NULL,
	"cc_addresses" text[] DEFAULT '{}' NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"body_markdown" text,
	"text_body" text,
	"html_body" text,
	"attachments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"provider" text NOT NULL,
	"provider_message_id" text,
	"untrusted_sender" boolean DEFAULT false NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error_message" text,
	"delivered_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "unrouted_email" (
	"id" text PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"provider_message_id" text,
	"message_id" text,
	"from_address" text NOT NULL,
	"to_addresses" text[] NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "box_email_settings" (
	"id" text PRIMARY KEY NOT NULL,
	"box_id" text NOT NULL,
	"agent_secret" text NOT NULL,
	"agent_secret_hash" text NOT NULL,
	"sender_policy" "sender_policy" DEFAULT 'anyone' NOT NULL,
	"allowed_senders" text[] DEFAULT '{}' NOT NULL,
	"blocked_senders" text[] DEFAULT '{}' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "box_email_settings_box_id_unique" UNIQUE("box_id"),
	CONSTRAINT "box_email_settings_agent_secret_hash_unique" UNIQUE("agent_secret_hash")
);
--> statement-breakpoint
CREATE TABLE "box_env_var" (
	"id" text PRIMARY KEY NOT NULL,
	"box_id" text NOT NULL,
	"key" text NOT NULL,
	"type" "env_var_type" NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_credential" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ai_usage" ADD CONSTRAINT "ai_usage_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_usage" ADD CONSTRAINT "ai_usage_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account" ADD CONSTRAINT "account_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session" ADD CONSTRAINT "session_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box" ADD CONSTRAINT "box_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_agent_config" ADD CONSTRAINT "box_agent_config_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_cronjob" ADD CONSTRAINT "box_cronjob_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_cronjob_execution" ADD CONSTRAINT "box_cronjob_execution_cronjob_id_box_cronjob_id_fk" FOREIGN KEY ("cronjob_id") REFERENCES "public"."box_cronjob"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_cronjob_execution" ADD CONSTRAINT "box_cronjob_execution_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_deploy_step" ADD CONSTRAINT "box_deploy_step_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_email" ADD CONSTRAINT "box_email_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_email_settings" ADD CONSTRAINT "box_email_settings_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "box_env_var" ADD CONSTRAINT "box_env_var_box_id_box_id_fk" FOREIGN KEY ("box_id") REFERENCES "public"."box"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_credential" ADD CONSTRAINT "user_credential_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ai_usage_user_id_created_at_idx" ON "ai_usage" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "ai_usage_box_id_idx" ON "ai_usage" USING btree ("box_id");--> statement-breakpoint
CREATE INDEX "account_user_id_idx" ON "account" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "session_user_id_idx" ON "session" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "verification_identifier_idx" ON "verification" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "box_user_id_created_at_idx" ON "box" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "box_agent_config_box_trigger_idx" ON "box_agent_config" USING btree ("box_id","trigger_type");--> statement-breakpoint
CREATE UNIQUE INDEX "box_cronjob_box_id_name_idx" ON "box_cronjob" USING btree ("box_id","name");--> statement-breakpoint
CREATE INDEX "box_cronjob_enabled_idx" ON "box_cronjob" USING btree ("enabled");--> statement-breakpoint
CREATE UNIQUE INDEX "box_cronjob_execution_cronjob_tick_idx" ON "box_cronjob_execution" USING btree ("cronjob_id","scheduled_for");--> statement-breakpoint
CREATE INDEX "box_cronjob_execution_cronjob_created_idx" ON "box_cronjob_execution" USING btree ("cronjob_id","created_at");--> statement-breakpoint
CREATE INDEX "box_cronjob_execution_box_id_idx" ON "box_cronjob_execution" USING btree ("box_id");--> statement-breakpoint
CREATE UNIQUE INDEX "box_deploy_step_deploy_step_idx" ON "box_deploy_step" USING btree ("deploy_id","step");--> statement-breakpoint
CREATE INDEX "box_deploy_step_box_id_created_at_idx" ON "box_deploy_step" USING btree ("box_id","created_at");--> statement-breakpoint
CREATE INDEX "box_email_box_id_created_at_idx" ON "box_email" USING btree ("box_id","created_at");--> statement-breakpoint
CREATE INDEX "box_email_box_id_thread_id_idx" ON "box_email" USING btree ("box_id","thread_id");--> statement-breakpoint
CREATE UNIQUE INDEX "box_email_box_direction_message_id_idx" ON "box_email" USING btree ("box_id","direction","message_id");--> statement-breakpoint
CREATE UNIQUE INDEX "box_email_provider_message_id_idx" ON "box_email" USING btree ("provider","provider_message_id") WHERE "box_email"."provider_message_id" is not null;--> statement-breakpoint
CREATE INDEX "unrouted_email_created_at_idx" ON "unrouted_email" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "unrouted_email_provider_message_id_idx" ON "unrouted_email" USING btree ("provider","provider_message_id") WHERE "unrouted_email"."provider_message_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "box_env_var_box_id_key_idx" ON "box_env_var" USING btree ("box_id","key");--> statement-breakpoint
CREATE UNIQUE INDEX "user_credential_user_id_key_idx" ON "user_credential" USING btree ("user_id","key");