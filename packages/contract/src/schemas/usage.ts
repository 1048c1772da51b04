import { z } from "zod";
import { idParam } from "./common";

export const USAGE_GROUPS = ["day", "box", "model", "trigger"] as const;
export const usageGroupSchema = z.enum(USAGE_GROUPS);
export type UsageGroup = z.output<typeof usageGroupSchema>;

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a day is YYYY-MM-DD (UTC)");

export const usageQueryInput = z.object({
  /** First UTC day included (default: the first day of this month). */
  from: isoDay.optional(),
  /** Last UTC day included (default: today). */
  to: isoDay.optional(),
  boxId: idParam.optional(),
  /**
   * One grouping, or two separated by a comma (`day,box`: a row per day and box, for a stacked chart).
   * Default `day`.
   */
  groupBy: z
    .string()
    .default("day")
    .transform((value, ctx) => {
      const parts = value.split(",").map((part) => part.trim());
      const parsed = z.array(usageGroupSchema).min(1).max(2).safeParse(parts);
      if (!parsed.success || new Set(parts).size !== parts.length) {
        ctx.addIssue({
          code: "custom",
          message: `groupBy is one or two of ${USAGE_GROUPS.join(", ")}, comma-separated (e.g. "day,box")`,
        });
        return z.NEVER;
      }
      return parsed.data;
    }),
});

export const usageTotalsSchema = z.object({
  /** Known cost only; `unpricedEntries` counts what had no price. */
  costUsd: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadTokens: z.number(),
  cacheWriteTokens: z.number(),
  mediaCalls: z.number(),
  modelRequests: z.number(),
  unpricedEntries: z.number(),
});
export type UsageTotals = z.output<typeof usageTotalsSchema>;

/** One group's sums; the grouping's fields are set, the others null. */
export const usageRowSchema = usageTotalsSchema.extend({
  day: z.string().nullable(),
  boxId: z.string().nullable(),
  boxName: z.string().nullable(),
  model: z.string().nullable(),
  trigger: z.string().nullable(),
});
export type UsageRow = z.output<typeof usageRowSchema>;

export const usageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  groupBy: z.array(usageGroupSchema),
  totals: usageTotalsSchema,
  rows: z.array(usageRowSchema),
});

const monthlyUsd = z
  .number()
  .min(0, "a monthly budget is 0 or more US dollars")
  .max(1_000_000, "a monthly budget is at most $1,000,000")
  .nullable();

export const setBudgetInput = z.object({
  /** null: no cap of your own (the platform's default, if any, applies). */
  monthlyUsd,
});

export const budgetAlertSchema = z.object({
  scope: z.string(),
  threshold: z.number(),
  spentUsd: z.number(),
  capUsd: z.number(),
  createdAt: z.date(),
});

export const userBudgetSchema = z.object({
  /** The user's own cap (null: none set). */
  monthlyUsd: z.number().nullable(),
  /** The platform's default cap (`DEFAULT_MONTHLY_BUDGET_USD`; null: none). A user's own may only be lower. */
  defaultMonthlyUsd: z.number().nullable(),
  /** The cap that applies: the lower of the two, or null for no cap. */
  effectiveMonthlyUsd: z.number().nullable(),
  /** This month's (UTC) known spend. */
  spentUsd: z.number(),
  /** `YYYY-MM`. */
  period: z.string(),
  /** Alerts sent this period (80 and 100 % of a cap), for the dashboard's banner. */
  alerts: z.array(budgetAlertSchema),
});

export const boxBudgetSchema = z.object({
  boxId: z.string(),
  monthlyUsd: z.number().nullable(),
  spentUsd: z.number(),
  period: z.string(),
});
