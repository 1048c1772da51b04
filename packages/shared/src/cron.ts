/**
 * Five-field cron validation that explains itself. BullMQ accepts more (seconds, names, L/W/#),
 * but boxes and users share one portable dialect, and a rejected expression must say which field
 * is wrong and why.
 */
const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export type CronCheck = { ok: true } | { ok: false; reason: string };

function parseValue(raw: string, fieldIndex: number): number | undefined {
  const lower = raw.toLowerCase();
  if (fieldIndex === 3) {
    const month = MONTH_NAMES.indexOf(lower);
    if (month >= 0) {
      return month + 1;
    }
  }
  if (fieldIndex === 4) {
    const day = DAY_NAMES.indexOf(lower);
    if (day >= 0) {
      return day;
    }
  }
  return /^\d+$/.test(raw) ? Number(raw) : undefined;
}

function checkField(part: string, fieldIndex: number): string | undefined {
  const field = FIELDS[fieldIndex];
  if (!field) {
    return "too many fields";
  }
  const range = `${field.min}–${field.max}`;
  for (const item of part.split(",")) {
    if (item === "") {
      return `${field.name} has an empty list item`;
    }
    const [base = "", step, ...extra] = item.split("/");
    if (extra.length > 0) {
      return `${field.name} '${item}' has more than one '/'`;
    }
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) {
      return `${field.name} step '${step}' must be a positive whole number`;
    }
    if (base === "*") {
      continue;
    }
    const bounds = base.split("-");
    if (bounds.length > 2) {
      return `${field.name} '${item}' is not a value or a range`;
    }
    const values: number[] = [];
    for (const bound of bounds) {
      const value = parseValue(bound, fieldIndex);
      if (value === undefined) {
        return `${field.name} '${bound}' is not a number`;
      }
      if (value < field.min || value > field.max) {
        return `${field.name} must be ${range}, got ${value}`;
      }
      values.push(value);
    }
    const [from, to] = values;
    if (from !== undefined && to !== undefined && from > to) {
      return `${field.name} range '${base}' runs backwards`;
    }
  }
  return undefined;
}

export function checkCronExpression(expression: string): CronCheck {
  const parts = expression.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 5) {
    return {
      ok: false,
      reason: `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`,
    };
  }
  for (const [index, part] of parts.entries()) {
    const problem = checkField(part, index);
    if (problem) {
      return { ok: false, reason: problem };
    }
  }
  return { ok: true };
}
