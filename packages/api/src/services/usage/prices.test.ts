import {
  ELEVENLABS_MODEL,
  FAL_IMAGE_MODEL,
  PRICES,
  REPLICATE_IMAGE_MODEL,
  REPLICATE_STT_MODEL,
  REPLICATE_TTS_MODEL,
} from "@vps-claude/ai";
import { createLogger } from "@vps-claude/logger";
import { describe, expect, it } from "vitest";
import type { ModelUsage } from "../model-gateway/model-usage";
import { MEDIA_PRICES, MODEL_PRICES, mediaModelName, PRICE_TABLE_VERSION, priceOf } from "./prices";

/** The per-turn usage the end-to-end tests make the fake Messages API report. */
const TURN: ModelUsage = { inputTokens: 1234, outputTokens: 567, cacheReadTokens: 89, cacheWriteTokens: 0 };

const modelCost = (model: string | null, tokens: ModelUsage = TURN) =>
  priceOf({ kind: "model", provider: "anthropic", model, tokens }).costUsd;

function capturedLogger() {
  const lines: { msg: string; unpriced?: string }[] = [];
  const logger = createLogger({
    name: "prices-test",
    level: "warn",
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

describe("priceOf for model requests", () => {
  it("prices 1,234 input, 567 output and 89 cache-read tokens exactly, per model family", () => {
    // 1234 × $3 + 567 × $15 + 89 × $0.30 per million = $0.0122337, kept to the ledger's micro-dollar.
    expect(
      priceOf({ kind: "model", provider: "anthropic", model: "claude-sonnet-4-5", tokens: TURN }),
    ).toEqual({
      costUsd: 0.012234,
      priceVersion: PRICE_TABLE_VERSION,
    });
    // 1234 × $1 + 567 × $5 + 89 × $0.10
    expect(modelCost("claude-haiku-4-5")).toBe(0.004078);
    // 1234 × $15 + 567 × $75 + 89 × $1.50
    expect(modelCost("claude-opus-4-1")).toBe(0.061169);
    // 1234 × $5 + 567 × $25 + 89 × $0.50
    expect(modelCost("claude-opus-4-5")).toBe(0.02039);
    // 1234 × $0.80 + 567 × $4 + 89 × $0.08
    expect(modelCost("claude-3-5-haiku")).toBe(0.003262);
  });

  it("prices dated snapshots and aliases as their family", () => {
    for (const model of ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5-latest", "CLAUDE-SONNET-4-5[1m]"]) {
      expect(modelCost(model), model).toBe(modelCost("claude-sonnet-4-5"));
    }
    expect(modelCost("claude-haiku-4-5-20251001")).toBe(modelCost("claude-haiku-4-5"));
    expect(modelCost("claude-opus-4-20250514")).toBe(modelCost("claude-opus-4-0"));
    expect(modelCost("claude-3-5-haiku-20241022")).toBe(modelCost("claude-3-5-haiku"));
  });

  it("charges cache writes at the 5-minute write rate", () => {
    const writes = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 40_000 };
    expect(modelCost("claude-sonnet-4-5", writes)).toBe(0.15);
    expect(modelCost("claude-opus-4-6", writes)).toBe(0.25);
  });

  it("prices a prompt over 200K tokens on Sonnet 4.5 at the long-context rates, on all its tokens", () => {
    const long = { inputTokens: 150_000, outputTokens: 1000, cacheReadTokens: 60_000, cacheWriteTokens: 0 };
    // 150000 × $6 + 1000 × $22.50 + 60000 × $0.60
    expect(modelCost("claude-sonnet-4-5", long)).toBe(0.9585);
    // Sonnet 4.6 has no long-context surcharge: 150000 × $3 + 1000 × $15 + 60000 × $0.30
    expect(modelCost("claude-sonnet-4-6", long)).toBe(0.483);
    const justUnder = { ...long, cacheReadTokens: 50_000 };
    // Exactly 200K is not over it: 150000 × $3 + 1000 × $15 + 50000 × $0.30
    expect(modelCost("claude-sonnet-4-5", justUnder)).toBe(0.48);
  });

  it("records an unknown model as null, never 0, and warns once per model", () => {
    const { logger, lines } = capturedLogger();
    const unknown = { kind: "model", provider: "anthropic", model: "claude-nova-9", tokens: TURN } as const;
    expect(priceOf(unknown, logger)).toEqual({ costUsd: null, priceVersion: PRICE_TABLE_VERSION });
    expect(priceOf(unknown, logger).costUsd).toBeNull();
    expect(priceOf({ ...unknown, model: "claude-nova-10" }, logger).costUsd).toBeNull();
    // A newer minor version is unknown too, not priced like its neighbour.
    expect(priceOf({ ...unknown, model: "claude-opus-4-9" }, logger).costUsd).toBeNull();
    expect(lines.map((line) => line.unpriced)).toEqual([
      "anthropic model 'claude-nova-9'",
      "anthropic model 'claude-nova-10'",
      "anthropic model 'claude-opus-4-9'",
    ]);
    expect(lines[0]?.msg).toMatch(
      /no price for anthropic model 'claude-nova-9'.*recorded as unknown \(null\)/,
    );
  });

  it("prices a request without tokens (count_tokens, /v1/models) at 0 whatever its model", () => {
    const none = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    expect(modelCost(null, none)).toBe(0);
    expect(modelCost("claude-unknown", none)).toBe(0);
    expect(modelCost(null)).toBeNull();
  });

  it("has a vendor source for every model price", () => {
    for (const [model, price] of Object.entries(MODEL_PRICES)) {
      expect(price.source.url, model).toMatch(/^https:\/\//);
      expect(price.source.read, model).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });
});

describe("priceOf for media calls", () => {
  const media = (
    provider: string,
    model: string,
    capability: "image" | "text_to_speech" | "speech_to_text",
  ) => ({
    kind: "media" as const,
    provider,
    model,
    capability,
  });

  it("prices every model services/ai calls, in the unit it records", () => {
    expect(priceOf({ ...media("fal", FAL_IMAGE_MODEL, "image"), units: 2, unit: "image" }).costUsd).toBe(
      0.05,
    );
    expect(
      priceOf({ ...media("replicate", REPLICATE_IMAGE_MODEL, "image"), units: 1, unit: "image" }).costUsd,
    ).toBe(0.003);
    expect(
      priceOf({ ...media("elevenlabs", ELEVENLABS_MODEL, "text_to_speech"), units: 19, unit: "character" })
        .costUsd,
    ).toBe(0.0057);
    expect(
      priceOf({
        ...media("replicate", REPLICATE_TTS_MODEL, "text_to_speech"),
        units: 1000,
        unit: "character",
      }).costUsd,
    ).toBe(0.02);
    expect(
      priceOf({ ...media("google", "speech:recognize (v1)", "speech_to_text"), units: 2, unit: "second" })
        .costUsd,
    ).toBe(0.0008);
    expect(
      priceOf({ ...media("replicate", REPLICATE_STT_MODEL, "speech_to_text"), units: 16, unit: "second" })
        .costUsd,
    ).toBe(0.0016);
  });

  it("agrees with the estimate the provider clients compute, so the two cannot drift apart", () => {
    const per = (provider: string, model: string) =>
      MEDIA_PRICES.find((price) => price.provider === provider && price.model === mediaModelName(model));
    const perUnit = (price: ReturnType<typeof per>) => (price ? price.usd / price.per : Number.NaN);
    expect(perUnit(per("fal", FAL_IMAGE_MODEL))).toBeCloseTo(PRICES.falFluxDevPerImage, 9);
    expect(perUnit(per("replicate", REPLICATE_IMAGE_MODEL))).toBeCloseTo(
      PRICES.replicateFluxSchnellPerImage,
      9,
    );
    expect(perUnit(per("elevenlabs", ELEVENLABS_MODEL))).toBeCloseTo(
      PRICES.elevenLabsPer1kCharacters / 1000,
      9,
    );
    expect(perUnit(per("replicate", REPLICATE_TTS_MODEL))).toBeCloseTo(
      PRICES.replicateXttsPer1kCharacters / 1000,
      9,
    );
    expect(perUnit(per("google", "speech:recognize (v1)"))).toBeCloseTo(PRICES.googleSpeechPerMinute / 60, 9);
    expect(perUnit(per("replicate", REPLICATE_STT_MODEL))).toBeCloseTo(
      PRICES.replicateWhisperPerMinute / 60,
      9,
    );
  });

  it("records a media model or unit it has no price for as null, with a warning", () => {
    const { logger, lines } = capturedLogger();
    expect(
      priceOf({ ...media("fal", "fal-ai/flux-pro", "image"), units: 1, unit: "image" }, logger).costUsd,
    ).toBeNull();
    expect(
      priceOf({ ...media("fal", FAL_IMAGE_MODEL, "image"), units: 1, unit: "second" }, logger).costUsd,
    ).toBeNull();
    expect(lines.map((line) => line.unpriced)).toEqual([
      "fal image model 'fal-ai/flux-pro' per image",
      "fal image model 'fal-ai/flux/dev' per second",
    ]);
  });

  it("has a source for every media price", () => {
    for (const price of MEDIA_PRICES) {
      expect(price.source.url, price.model).toMatch(/^https:\/\//);
      expect(price.source.read, price.model).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });
});
