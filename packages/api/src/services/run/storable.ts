const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * What a box sends is stored in Postgres, which refuses two things JavaScript strings may hold: NUL
 * (in `text` and in `jsonb`) and unpaired surrogates (in `jsonb`, as `\ud800` escapes). One such
 * character in a tool's output must not make a run's events unstorable (the follower would retry
 * forever), so they are replaced: NUL dropped, a lone surrogate as U+FFFD.
 */
export function toStorableText(text: string): string {
  return text.replaceAll("\u0000", "").replace(LONE_SURROGATE, "\ufffd");
}

/** {@link toStorableText} through every string (keys included) of a JSON value. */
export function toStorableJson(value: unknown): unknown {
  if (typeof value === "string") {
    return toStorableText(value);
  }
  if (Array.isArray(value)) {
    return value.map(toStorableJson);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [toStorableText(key), toStorableJson(entry)]),
    );
  }
  return value;
}
