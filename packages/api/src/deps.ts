import type { MediaAi } from "@vps-claude/ai";
import type { Auth, SessionResolver } from "@vps-claude/auth";
import type { RunEvent } from "@vps-claude/contract/box-agent";
import type { Database } from "@vps-claude/db";
import type { EmailProvider } from "@vps-claude/email";
import type { Logger } from "@vps-claude/logger";
import type { Queues } from "@vps-claude/queue";
import type { Keyring } from "@vps-claude/shared";
import type { SpritesClient } from "@vps-claude/sprites";
import type { Storage } from "@vps-claude/storage";
// The one module of services/ named here is the box-agent port: a leaf (types of db and the
// contract only), so deps never depends on a service's logic (scripts/check-imports.mjs holds it to that).
import type { BoxAgentClient } from "./services/box-agent/box-agent-client";

export interface ApiConfig {
  /** Box addresses are `{subdomain}@{agentsDomain}`. */
  agentsDomain: string;
  /** A deploy with no progress for this long is stuck: a redeploy starts over instead of joining it. */
  deployStuckAfterMs: number;
  /** Keys the box-token lookup hash (see hashBoxToken). */
  tokenPepper: string;
  /** Model boxes use unless their agent config says otherwise. */
  defaultModel: string;
  /** The skill catalog: one folder per skill, each with a SKILL.md. */
  skillsDir: string;
  email: EmailConfig;
  /** Where `/box/llm/*` forwards and with which platform key. */
  modelGateway: ModelGatewayConfig;
  /**
   * Domains every box reaches whatever its network policy: the platform's box API (SERVER_URL's
   * host) on Fly. Empty on sprites-local, which forwards SERVER_URL to each sandbox by itself.
   */
  platformEgressDomains: string[];
  /** Deadlines after which the reconciler resolves what was left non-terminal. */
  reconcile: ReconcileConfig;
  /** How runs are handed to boxes; a run's end waits `reconcile.runGraceMs` past its limit. */
  runs: RunsConfig;
  /** Budgets: the platform's default cap and the platform's own mail about them. */
  money: MoneyConfig;
}

export interface MoneyConfig {
  /** `DEFAULT_MONTHLY_BUDGET_USD`: every user's monthly cap unless they set a lower one; null: no cap. */
  defaultMonthlyBudgetUsd: number | null;
  /** Sender of the platform's own mail (budget alerts): `Name <address>`. */
  platformEmailFrom: string;
  /** The dashboard's URL (PUBLIC_URL), linked from budget alerts. */
  dashboardUrl: string;
  /**
   * How long one process reuses a user's month spend and caps before asking Postgres again, so the
   * gateway does not query per request under load. A cap set through this process applies at once.
   */
  spendCacheMs: number;
}

export interface RunsConfig {
  /** A run the box could not be handed for this long after it was queued fails ("box unreachable"). */
  dispatchDeadlineMs: number;
}

/** When the reconciler (a job every `everyMs`) gives up on something left non-terminal. Tests shorten these. */
export interface ReconcileConfig {
  everyMs: number;
  /**
   * A deploy with no progress this long is given up: the box goes to `error`. Never shorter than
   * `deployStuckAfterMs` (from which a redeploy may already start over).
   */
  deployFailAfterMs: number;
  /** A run with no final event this long past its own limit is `interrupted`. */
  runGraceMs: number;
  /** A cron execution still `pending`/`waking_box` with no run this long after its tick `failed`. */
  cronTickStuckAfterMs: number;
  /** An inbound email `delivered` this long without a run gets its run started. */
  emailRunMissingAfterMs: number;
  /** A run's follow job or an email's deliver job missing while nothing moved for this long is added again. */
  lostJobAfterMs: number;
}

/** What the model gateway (`/box/llm/*`) forwards to, and how long it trusts a lookup. */
export interface ModelGatewayConfig {
  /** `ANTHROPIC_BASE_URL`: the API the gateway forwards to (never handed to a box). */
  upstreamUrl: string;
  /** `ANTHROPIC_API_KEY`: the platform's key, used when the box's owner has none of their own. */
  platformApiKey: string | undefined;
  /** Largest request body accepted (the Messages API itself takes up to 32 MB). */
  maxRequestBytes: number;
  /**
   * How long a box token's lookup (its box and the key that pays) is reused; a deleted box or a
   * changed credential takes effect within this time. 0 looks up every request.
   */
  accessCacheMs: number;
}

export interface EmailConfig {
  /** Resend's receiving API, to fetch the content of an inbound webhook's email. */
  resend?: { apiKey: string; baseUrl?: string };
  /** `whsec_…`; unset → the inbound webhook answers 503. */
  webhookSecret?: string;
  /** Largest inbound or outbound message, attachments included. */
  maxMessageBytes: number;
  /** Recipients (to + cc, counted again on every send attempt and retry) a box may send to per rolling hour. */
  recipientsPerHour: number;
  /** First retry delay of a delivery to a box; doubles each attempt (13 attempts ≈ 34 h at 30 s). */
  deliveryRetryBaseMs: number;
}

/** Everything services need, built once per process and passed down explicitly. */
export interface ApiDeps {
  db: Database;
  queues: Queues;
  keyring: Keyring;
  auth: Auth;
  sessions: SessionResolver;
  logger: Logger;
  config: ApiConfig;
  /** Attachments and generated media. */
  storage: Storage;
  /** Where outbound mail goes: Resend, an SMTP relay, or the local outbox. */
  emailProvider: EmailProvider;
  /** Calls into a box's box-agent (waking the box first). */
  boxAgent: BoxAgentClient;
  /** The sandbox provider, for the owner's file browser. */
  sprites: SpritesClient;
  /** Media providers for the box API's /ai routes. */
  ai: AiDeps;
  /** Fans run events out to every API process, for live stream subscribers. */
  runEvents: RunEventBus;
}

/**
 * Publishes a run's transcript events to every process (Redis pub/sub in production) so whichever
 * API process serves a subscriber sees them live. Postgres keeps the record; this only carries news.
 */
export interface RunEventBus {
  publish(runId: string, event: RunEvent): Promise<void>;
  /** Calls `onEvent` for each event published for the run from now on; resolves once subscribed. */
  subscribe(runId: string, onEvent: (event: RunEvent) => void): Promise<() => Promise<void>>;
}

export interface AiDeps {
  /** Image, speech and transcription providers with fallback; none configured → the routes answer 503. */
  media: MediaAi;
  /** Successful media calls a box may make per rolling hour (counted from ai_usage). */
  callsPerHour: number;
}
