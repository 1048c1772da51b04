import { keepPreviousData } from "@tanstack/react-query";
import type { JsonOf, UserInputs, UserOutputs } from "@vps-claude/contract";
import { orpc } from "./orpc";

/** The usage and budget routes' JSON, typed from `userContract`. */
export type UsageReport = JsonOf<UserOutputs["usage"]["report"]>;
export type UsageRow = UsageReport["rows"][number];
export type UsageTotals = UsageReport["totals"];
export type UsageGroup = UsageReport["groupBy"][number];
export type UserBudget = JsonOf<UserOutputs["budget"]["get"]>;
export type BudgetAlert = UserBudget["alerts"][number];
export type BoxBudget = JsonOf<UserOutputs["budget"]["getBox"]>;
export type RunPage = JsonOf<UserOutputs["run"]["list"]>;
export type Run = RunPage["runs"][number];
export type RunTrigger = Run["trigger"];

export const RUN_TRIGGERS = ["chat", "email", "cron", "api"] as const satisfies readonly RunTrigger[];

type ReportInput = UserInputs["usage"]["report"];
/** The report's query as the page holds it: `groupBy` as the list the contract's comma-separated string carries. */
export type UsageQuery = Required<Pick<ReportInput, "from" | "to">> &
  Pick<ReportInput, "boxId"> & { groupBy: readonly UsageGroup[] };

export function reportInput({ from, to, groupBy, boxId }: UsageQuery): ReportInput {
  return { from, to, groupBy: groupBy.join(","), ...(boxId ? { boxId } : {}) };
}

/**
 * One usage report. While the next period or grouping loads, the last answer stays on screen: it
 * carries its own `groupBy`, so what is drawn stays consistent with itself.
 */
export function usageReportQuery(query: UsageQuery) {
  return orpc.usage.report.queryOptions({ input: reportInput(query), placeholderData: keepPreviousData });
}
