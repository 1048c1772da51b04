import { CronExpressionParser } from "cron-parser";

/**
 * Cron validation in exactly the scheduler's dialect: BullMQ's job schedulers parse patterns with
 * cron-parser, so we do too (5 fields, or 6 with seconds first; names, `L`, `W`, `#`, `@daily`…).
 * What we add is the explanation: a rejected expression says which field is wrong and why.
 */
const FIELD_NAMES = ["minute", "hour", "day of month", "month", "day of week"];
const SECONDS_FIELD_NAMES = ["second", ...FIELD_NAMES];

export type CronCheck = { ok: true } | { ok: false; reason: string };

/** cron-parser's wording made readable: "Constraint error, got value 60 expected range 0-59" → "must be 0–59, got 60". */
function explain(message: string): string {
  const constraint = /got value (\S+) expected range (\d+)-(\d+)/.exec(message);
  if (constraint) {
    return `must be ${constraint[2]}–${constraint[3]}, got ${constraint[1]}`;
  }
  const range = /Invalid range: (\S+), min\((\d+)\) > max\((\d+)\)/.exec(message);
  if (range) {
    return `range '${range[1]}' runs backwards`;
  }
  const characters = /Invalid characters, got value: (.+)$/.exec(message);
  if (characters) {
    return `'${characters[1]}' is not a number, a name, a range or a step`;
  }
  const step = /cannot repeat at every (\S+) time/.exec(message);
  if (step) {
    return `step '${step[1]}' must be a positive whole number`;
  }
  if (/Invalid list value format/.test(message)) {
    return "has an empty list item";
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function parse(expression: string): ReturnType<typeof CronExpressionParser.parse> {
  return CronExpressionParser.parse(expression);
}

/** Names the field that makes `parts` unparsable, by parsing it alone among wildcards. */
function blameField(parts: string[]): string | undefined {
  const names = parts.length === 6 ? SECONDS_FIELD_NAMES : FIELD_NAMES;
  for (const index of parts.keys()) {
    const probe = parts.map((value, i) => (i === index ? value : "*")).join(" ");
    try {
      parse(probe);
    } catch (error) {
      return `${names[index]} ${explain(error instanceof Error ? error.message : String(error))}`;
    }
  }
  return undefined;
}

export function checkCronExpression(expression: string): CronCheck {
  const trimmed = expression.trim();
  const parts = trimmed.split(/\s+/).filter(Boolean);
  if (!trimmed.startsWith("@") && parts.length !== 5 && parts.length !== 6) {
    return {
      ok: false,
      reason: `expected 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; got ${parts.length}`,
    };
  }
  try {
    parse(trimmed);
    return { ok: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: blameField(parts) ?? explain(message) };
  }
}

/** The next `count` fire times of a valid expression, as the scheduler will compute them. */
export function nextCronFireTimes(
  expression: string,
  { count = 3, timezone, from = new Date() }: { count?: number; timezone?: string; from?: Date } = {},
): Date[] {
  const interval = CronExpressionParser.parse(expression.trim(), {
    currentDate: from,
    ...(timezone ? { tz: timezone } : {}),
  });
  return interval.take(count).map((date) => date.toDate());
}
