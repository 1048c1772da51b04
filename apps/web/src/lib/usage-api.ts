import type { JsonOf, UserInputs, UserOutputs } from "@vps-claude/contract";
import { requestJson, segment } from "./api-client";

/** The usage and budget routes' JSON, typed from `userContract` (type-only: no zod in the browser bundle). */
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

function searchOf(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value) {
      search.set(name, value);
    }
  }
  return search.toString();
}

export const usageApi = {
  report: ({ from, to, groupBy, boxId }: UsageQuery) =>
    requestJson<UsageReport>(`/rpc/usage?${searchOf({ from, to, boxId, groupBy: groupBy.join(",") })}`),
};

export const budgetApi = {
  get: () => requestJson<UserBudget>("/rpc/budget"),
  /** `null` clears the user's own cap (the platform's default, if any, applies). */
  set: (monthlyUsd: number | null) =>
    requestJson<UserBudget>("/rpc/budget", { method: "PUT", body: { monthlyUsd } }),
  getBox: (boxId: string) => requestJson<BoxBudget>(`/rpc/box/${segment(boxId)}/budget`),
  setBox: (boxId: string, monthlyUsd: number | null) =>
    requestJson<BoxBudget>(`/rpc/box/${segment(boxId)}/budget`, { method: "PUT", body: { monthlyUsd } }),
};

export const runsApi = {
  /** One page of the box's runs, newest first. */
  list: (boxId: string, filter: { trigger?: RunTrigger; cursor?: string; limit?: number }) =>
    requestJson<RunPage>(
      `/rpc/box/${segment(boxId)}/runs?${searchOf({
        trigger: filter.trigger,
        cursor: filter.cursor,
        limit: filter.limit === undefined ? undefined : String(filter.limit),
      })}`,
    ),
};

/**
 * Budget forms announce a change, so the banner on every dashboard page (mounted once in the layout)
 * reads the budget again instead of showing an alert the new cap has settled.
 */
export const BUDGET_CHANGED_EVENT = "vps:budget-changed";

export function announceBudgetChange(): void {
  window.dispatchEvent(new Event(BUDGET_CHANGED_EVENT));
}
