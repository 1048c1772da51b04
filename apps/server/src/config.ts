import { isIP } from "node:net";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { isAddressOrCidr } from "./client-address";

const url = z.url();
const optional = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));

const base64Key = z.string().refine((value) => Buffer.from(value, "base64").length === 32, {
  message: "must be 32 bytes encoded as base64 (generate one with: openssl rand -base64 32)",
});

/** A comma-separated list, entries trimmed, empty ones dropped; unset is an empty list. */
const commaList = () =>
  z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    );

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(33000),
  HOST: z.string().default("0.0.0.0"),
  SERVER_ROLE: z.enum(["api", "worker", "all"]).default("all"),
  PUBLIC_URL: url.default("http://localhost:33001"),
  /** Extra origins allowed to call the auth API (comma-separated), e.g. a second dashboard host. */
  TRUSTED_ORIGINS: commaList(),
  SERVER_URL: url.default("http://127.0.0.1:33000"),
  /**
   * Peers (addresses or CIDRs, comma-separated) whose X-Forwarded-For is believed, e.g. the reverse
   * proxy in front of the platform. None by default: boxes reach the server from loopback too.
   */
  TRUSTED_PROXIES: commaList().superRefine((entries, ctx) => {
    for (const entry of entries) {
      if (!isAddressOrCidr(entry)) {
        ctx.addIssue({
          code: "custom",
          message: `'${entry}' is not an IP address or CIDR range (e.g. 10.0.0.5, 10.0.0.0/8, ::1)`,
        });
      }
    }
  }),
  /** closed: only the first user signs up; further accounts are made by an operator (npm run create-user). */
  SIGNUP: z.enum(["open", "closed"]).default("open"),
  /** "1" lets a multi-user platform (SIGNUP=open) start although its sandboxes are not confined. */
  SANDBOX_UNCONFINED_OK: z.enum(["0", "1", ""]).default(""),
  DATABASE_URL: z.string().min(1, "DATABASE_URL is required (npm start provides an embedded one)"),
  REDIS_URL: z.string().min(1, "REDIS_URL is required (npm start provides an embedded one)"),
  /** BullMQ key prefix, so several deployments (or test runs) can share one Redis. */
  QUEUE_PREFIX: z.string().default("vps"),
  BETTER_AUTH_SECRET: z.string().min(32, "BETTER_AUTH_SECRET must be at least 32 characters"),
  ENCRYPTION_KEY: base64Key,
  /** Keys still accepted for decryption during a rotation (comma-separated base64). */
  ENCRYPTION_KEYS_PREVIOUS: commaList(),
  /** Where the skill catalog lives; defaults to the repo's skills/ folder. */
  SKILLS_DIR: z.string().default(fileURLToPath(new URL("../../../skills", import.meta.url))),
  AGENTS_DOMAIN: z.string().default("agents.localhost"),
  DEFAULT_MODEL: z.string().default("claude-sonnet-4-5"),
  AUTH_RATE_LIMIT: z.enum(["on", "off"]).default("on"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SPRITES_TOKEN: optional,
  SPRITES_API_URL: optional,
  SPRITES_LOCAL_TOKEN: optional,
  ANTHROPIC_API_KEY: optional,
  /** The API the model gateway (`/box/llm/*`) forwards to; never handed to a box. */
  ANTHROPIC_BASE_URL: optional.pipe(
    z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. https://api.anthropic.com" })
      .optional(),
  ),
  /**
   * Every user's monthly spend cap (model and media, USD) unless they set a lower one; unset: no cap.
   * Checked before a model request or media call is forwarded.
   */
  DEFAULT_MONTHLY_BUDGET_USD: optional.pipe(
    z.coerce
      .number<string>({ error: "must be a number of US dollars, e.g. 20 (unset: no cap)" })
      .min(0, "must be 0 or more US dollars (unset: no cap)")
      .max(1_000_000, "must be at most 1000000 US dollars")
      .optional(),
  ),
  /**
   * The sender of the platform's own mail (budget alerts), e.g. `VPS Claude <billing@example.com>`;
   * unset: `VPS Claude <platform@AGENTS_DOMAIN>` (box addresses always carry a `-xxxx` suffix, so
   * no box can own it).
   */
  PLATFORM_EMAIL_FROM: optional,
  RESEND_API_KEY: optional,
  RESEND_BASE_URL: optional,
  RESEND_WEBHOOK_SECRET: optional,
  SMTP_URL: optional,
  SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(2525),
  /** Where the SMTP listener binds; a self-hoster receiving mail from the internet sets 0.0.0.0. */
  SMTP_HOST: z.string().default("127.0.0.1"),
  SMTP_ENABLED: z.enum(["on", "off"]).default("on"),
  /** Connections the SMTP listener holds at once; one more is answered 421. */
  SMTP_MAX_CLIENTS: z.coerce.number().int().min(1).default(50),
  /** New SMTP connections one client address may open per minute; past it, 421. */
  SMTP_CONNECTIONS_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  /**
   * DNS servers for SPF, DKIM and DMARC checks of inbound mail (comma-separated `ip` or `ip:port`,
   * `[v6]:port`); unset → the system resolver.
   */
  DNS_SERVERS: commaList().superRefine((entries, ctx) => {
    for (const entry of entries) {
      const host =
        entry.match(/^\[([^\]]+)\](?::\d{1,5})?$/)?.[1] ?? entry.replace(/^([^:]+):\d{1,5}$/, "$1");
      if (isIP(host) === 0) {
        ctx.addIssue({
          code: "custom",
          message: `'${entry}' is not a DNS server address (e.g. 9.9.9.9, 127.0.0.1:5353, [::1]:53)`,
        });
      }
    }
  }),
  /** Largest email in or out, attachments included. */
  EMAIL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  /**
   * Recipients (to + cc, every send attempt and retry) a box may send to per rolling hour.
   * `EMAIL_SENDS_PER_HOUR` is its former name, still read when this one is unset.
   */
  EMAIL_RECIPIENTS_PER_HOUR: z.coerce.number().int().min(1).optional(),
  EMAIL_SENDS_PER_HOUR: z.coerce.number().int().min(1).optional(),
  EMAIL_DELIVERY_RETRY_BASE_MS: z.coerce.number().int().min(10).default(30_000),
  /** Platform state on disk: email attachments, the local outbox. */
  DATA_DIR: z.string().default(fileURLToPath(new URL("../../../.data", import.meta.url))),
  SPRITE_NAME_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]{0,20}$/, "lowercase letters, digits and hyphens, at most 20")
    .default("vps-"),
  /** The built box-agent (npm run -w @vps-claude/box-agent build); copied into each sprite. */
  BOX_AGENT_BUNDLE: z
    .string()
    .default(fileURLToPath(new URL("../../box-agent/dist/box-agent.mjs", import.meta.url))),
  /** box-agent's port inside a Fly sprite (sprites-local picks a free one per sandbox). */
  BOX_AGENT_PORT: z.coerce.number().int().min(1).max(65535).default(33002),
  /** node inside a sprite; on sprites-local the host's own node. */
  BOX_AGENT_NODE: optional,
  /** NODE_PATH inside a sprite; on sprites-local the host's node_modules (read-only in the sandbox). */
  BOX_AGENT_NODE_PATH: optional,
  /** Media providers (image: fal → Replicate; speech: ElevenLabs → Replicate; transcription: Google → Replicate). */
  FAL_KEY: optional,
  FAL_BASE_URL: optional,
  REPLICATE_API_TOKEN: optional,
  REPLICATE_BASE_URL: optional,
  ELEVENLABS_API_KEY: optional,
  ELEVENLABS_BASE_URL: optional,
  GOOGLE_SPEECH_API_KEY: optional,
  GOOGLE_SPEECH_BASE_URL: optional,
  DEPLOY_HEALTH_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
  /** How soon a deploy step whose worker died is picked up again. */
  DEPLOY_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /** A deploy with no progress for this long is stuck: a redeploy starts over instead of joining it. */
  DEPLOY_STUCK_AFTER_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60_000),
  /** How often the reconciler resolves runs, cron ticks, deliveries and deploys left non-terminal. */
  RECONCILE_EVERY_MS: z.coerce.number().int().min(1000).default(60_000),
  /** A deploy with no progress this long puts its box in `error` (at least DEPLOY_STUCK_AFTER_MS). */
  DEPLOY_FAIL_AFTER_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60_000),
  /** A run with no final event this long past its own maximum duration is recorded `interrupted`. */
  RUN_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10 * 60_000),
  /** A run that could not be handed to its box for this long after it was queued fails ("box unreachable"). */
  RUN_DISPATCH_DEADLINE_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(10 * 60_000),
  /** A cron tick that has not reached a run for this long is recorded `failed`. */
  CRON_TICK_STUCK_AFTER_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(15 * 60_000),
  /** An inbound email delivered this long without a run gets its run started by the reconciler. */
  EMAIL_RUN_MISSING_AFTER_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10 * 60_000),
  /** A run's follow job or an email's deliver job missing for this long (nothing moved) is queued again. */
  LOST_JOB_AFTER_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(2 * 60_000),
});

export type ServerConfig = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The only reader of process.env in the server: a typo or a missing secret fails at boot, by name. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `  ${issue.path.join(".")}: ${issue.message}`)
      .join("\n");
    throw new ConfigError(`Invalid server configuration:\n${problems}`);
  }
  return result.data;
}
