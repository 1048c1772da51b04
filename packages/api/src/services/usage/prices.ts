import type { AiCapability, UsageUnit } from "@vps-claude/ai";
import type { Logger } from "@vps-claude/logger";
import { hasTokens, type ModelUsage } from "../model-gateway/model-usage";

/**
 * The one price table of the platform: what each model token and each media unit costs, in USD.
 * Every ledger entry carries this version, so a cost can be traced to the prices it was computed
 * with; change the version whenever a price changes. List prices, not invoices: the vendor's bill
 * remains the truth (discounts, credits, taxes are not here).
 */
export const PRICE_TABLE_VERSION = "2026-12-01";

/** Where a price was read, and when. */
export interface PriceSource {
  url: string;
  /** YYYY-MM-DD. */
  read: string;
  note?: string;
}

/** USD per million tokens. */
interface TokenRates {
  input: number;
  output: number;
  /** Prompt-cache writes with the default 5-minute lifetime (Claude Code's writes). */
  cacheWrite: number;
  /** Cache hits and refreshes. */
  cacheRead: number;
}

export interface ModelPrice extends TokenRates {
  /**
   * A request whose prompt (input + cache reads + cache writes) is longer than `overPromptTokens`
   * pays these rates on all of its tokens, output included.
   */
  longContext?: TokenRates & { overPromptTokens: number };
  source: PriceSource;
}

const ANTHROPIC_PRICING: PriceSource = {
  url: "https://platform.claude.com/docs/en/about-claude/pricing",
  read: "2026-12-02",
};

const rates = (input: number, output: number, cacheWrite: number, cacheRead: number): TokenRates => ({
  input,
  output,
  cacheWrite,
  cacheRead,
});

const OPUS_45: ModelPrice = { ...rates(5, 25, 6.25, 0.5), source: ANTHROPIC_PRICING };
const OPUS_4: ModelPrice = { ...rates(15, 75, 18.75, 1.5), source: ANTHROPIC_PRICING };
const SONNET: ModelPrice = { ...rates(3, 15, 3.75, 0.3), source: ANTHROPIC_PRICING };
/** Sonnet 4 and 4.5 with the 1M-token context window: past 200K prompt tokens, the long-context rates. */
const SONNET_WITH_LONG_CONTEXT: ModelPrice = {
  ...SONNET,
  longContext: { ...rates(6, 22.5, 7.5, 0.6), overPromptTokens: 200_000 },
  source: { ...ANTHROPIC_PRICING, note: "long context pricing: > 200K input tokens" },
};
const HAIKU_45: ModelPrice = { ...rates(1, 5, 1.25, 0.1), source: ANTHROPIC_PRICING };
const HAIKU_35: ModelPrice = { ...rates(0.8, 4, 1, 0.08), source: ANTHROPIC_PRICING };
const HAIKU_3: ModelPrice = { ...rates(0.25, 1.25, 0.3, 0.03), source: ANTHROPIC_PRICING };

/**
 * Anthropic models by family id: a request's model is matched after dropping a snapshot date
 * (`-20250929`), `-latest` and a `[1m]` suffix, so `claude-sonnet-4-5-20250929` is
 * `claude-sonnet-4-5`. A family is listed only with a price read from the vendor; anything else
 * (a newer model included) is unknown and recorded with cost null — a guess from a similar name
 * would be wrong by 3× between Opus 4.1 and Opus 4.5.
 */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  "claude-opus-4-8": OPUS_45,
  "claude-opus-4-7": OPUS_45,
  "claude-opus-4-6": OPUS_45,
  "claude-opus-4-5": OPUS_45,
  "claude-opus-4-1": OPUS_4,
  "claude-opus-4": OPUS_4,
  "claude-opus-4-0": OPUS_4,
  "claude-sonnet-4-6": SONNET,
  "claude-sonnet-4-5": SONNET_WITH_LONG_CONTEXT,
  "claude-sonnet-4": SONNET_WITH_LONG_CONTEXT,
  "claude-sonnet-4-0": SONNET_WITH_LONG_CONTEXT,
  "claude-3-7-sonnet": SONNET,
  "claude-3-5-sonnet": SONNET,
  "claude-haiku-4-5": HAIKU_45,
  "claude-3-5-haiku": HAIKU_35,
  "claude-3-opus": OPUS_4,
  "claude-3-haiku": HAIKU_3,
};

/** One media price: `usd` for every `per` units of `unit`. */
export interface MediaPrice {
  provider: string;
  /** The provider's model, without a Replicate `:version` pin. */
  model: string;
  capability: AiCapability;
  unit: UsageUnit;
  usd: number;
  per: number;
  source: PriceSource;
}

/**
 * Media calls as `services/ai` records them (`ai_usage.units` in `ai_usage.unit`): images,
 * characters of text, seconds of audio.
 */
export const MEDIA_PRICES: readonly MediaPrice[] = [
  {
    provider: "fal",
    model: "fal-ai/flux/dev",
    capability: "image",
    unit: "image",
    usd: 0.025,
    per: 1,
    source: {
      url: "https://fal.ai/models/fal-ai/flux/dev",
      read: "2026-12-02",
      note: "$0.025 per megapixel, rounded up per image; every size we offer is at most 1024×1024, billed as 1 MP",
    },
  },
  {
    provider: "replicate",
    model: "black-forest-labs/flux-schnell",
    capability: "image",
    unit: "image",
    usd: 3,
    per: 1000,
    source: { url: "https://replicate.com/black-forest-labs/flux-schnell", read: "2026-12-02" },
  },
  {
    provider: "elevenlabs",
    model: "eleven_multilingual_v2",
    capability: "text_to_speech",
    unit: "character",
    usd: 0.3,
    per: 1000,
    source: {
      url: "https://elevenlabs.io/pricing",
      read: "2026-12-02",
      note: "the rate depends on the subscription; the Creator plan's overage rate, the highest paid one",
    },
  },
  {
    provider: "replicate",
    model: "lucataco/xtts-v2",
    capability: "text_to_speech",
    unit: "character",
    usd: 0.02,
    per: 1000,
    source: {
      url: "https://replicate.com/lucataco/xtts-v2",
      read: "2026-12-02",
      note: "billed by GPU time; an estimate per character of text from the model page's typical run",
    },
  },
  {
    provider: "google",
    model: "speech:recognize (v1)",
    capability: "speech_to_text",
    unit: "second",
    usd: 0.006,
    per: 15,
    source: {
      url: "https://cloud.google.com/speech-to-text/pricing",
      read: "2026-12-02",
      note: "v1 standard model, $0.024 per minute; the units are Google's own totalBilledTime, already rounded as it bills",
    },
  },
  {
    provider: "replicate",
    model: "openai/whisper",
    capability: "speech_to_text",
    unit: "second",
    usd: 0.006,
    per: 60,
    source: {
      url: "https://replicate.com/openai/whisper",
      read: "2026-12-02",
      note: "billed by GPU time; an estimate per second of audio from the model page's typical run",
    },
  },
];

export type PriceInput =
  | { kind: "model"; provider: "anthropic"; model: string | null; tokens: ModelUsage }
  | {
      kind: "media";
      provider: string;
      model: string;
      capability: AiCapability;
      units: number;
      unit: UsageUnit;
    };

export interface PriceResult {
  /** Rounded to the ledger's 6 decimals; null when the table has no price for it (never 0 then). */
  costUsd: number | null;
  priceVersion: string;
}

/** The family id a model request is priced by (see `MODEL_PRICES`). */
export function modelFamily(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/\[[^\]]*\]$/, "")
    .replace(/-latest$/, "")
    .replace(/-\d{8}$/, "");
}

/** Whether the table prices this model id (a request to an unpriced one is recorded with cost null). */
export function isPricedModel(model: string): boolean {
  return MODEL_PRICES[modelFamily(model)] !== undefined;
}

/** A Replicate model pinned as `owner/name:version` is priced as `owner/name`. */
export const mediaModelName = (model: string): string => model.replace(/:[0-9a-f]{16,}$/i, "");

const round6 = (usd: number) => Math.round(usd * 1e6) / 1e6;

function tokenCost(price: ModelPrice, tokens: ModelUsage): number {
  const prompt = tokens.inputTokens + tokens.cacheReadTokens + tokens.cacheWriteTokens;
  const long = price.longContext;
  const applied = long && prompt > long.overPromptTokens ? long : price;
  // Tokens × USD per million tokens is micro-USD: rounded once, to the micro-dollar the ledger keeps.
  const microUsd =
    tokens.inputTokens * applied.input +
    tokens.outputTokens * applied.output +
    tokens.cacheWriteTokens * applied.cacheWrite +
    tokens.cacheReadTokens * applied.cacheRead;
  return Math.round(microUsd) / 1e6;
}

/**
 * What a model request or a media call cost by the table. Nothing consumed (a request with no
 * tokens) costs 0 whatever the model; otherwise an unknown model is `null` and a warning.
 */
export function priceOf(input: PriceInput, logger?: Logger): PriceResult {
  const priced = (costUsd: number | null): PriceResult => ({ costUsd, priceVersion: PRICE_TABLE_VERSION });
  if (input.kind === "model") {
    if (!hasTokens(input.tokens)) {
      return priced(0);
    }
    const price = input.model === null ? undefined : MODEL_PRICES[modelFamily(input.model)];
    if (!price) {
      warnUnpriced(logger, `${input.provider} model '${input.model ?? "(none)"}'`);
      return priced(null);
    }
    return priced(tokenCost(price, input.tokens));
  }
  const model = mediaModelName(input.model);
  const price = MEDIA_PRICES.find(
    (candidate) =>
      candidate.provider === input.provider &&
      candidate.model === model &&
      candidate.capability === input.capability &&
      candidate.unit === input.unit,
  );
  if (!price) {
    warnUnpriced(logger, `${input.provider} ${input.capability} model '${model}' per ${input.unit}`);
    return priced(null);
  }
  return priced(round6((input.units / price.per) * price.usd));
}

/** Names are box-chosen (a request's model), so only so many are remembered; past that, one last warning. */
const MAX_WARNED = 1000;
const warned = new Set<string>();

function warnUnpriced(logger: Logger | undefined, what: string): void {
  if (!logger || warned.has(what) || warned.size > MAX_WARNED) {
    return;
  }
  warned.add(what);
  logger.warn(
    { priceVersion: PRICE_TABLE_VERSION, unpriced: what },
    warned.size > MAX_WARNED
      ? `no price for ${what}; more unpriced names follow and are no longer logged one by one`
      : `no price for ${what} in the price table (${PRICE_TABLE_VERSION}): its cost is recorded as unknown (null); add it to services/usage/prices.ts`,
  );
}
