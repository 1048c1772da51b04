import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
import { admitSpend } from "../usage/budget";
import { isPricedModel } from "../usage/prices";
import { spendCaps } from "../usage/spend-caps";
import type { GatewayRefusal } from "./anthropic-error";
import type { ModelKeySource } from "./resolve-model-key";

export interface ModelRequestAdmission {
  deps: ApiDeps;
  box: typeof box.$inferSelect;
  keySource: ModelKeySource;
  model: string | undefined;
}

/**
 * The one place that decides, before anything is sent upstream, whether a box may spend on the
 * model now: not once this month's spend has reached the user's or the box's cap (whichever key
 * pays: a cap is the owner's stop for what their agents spend).
 *
 * The refusal is a 402 `billing_error`, which Claude Code shows as "API Error: 402 <message>" and
 * does not retry (a 429 or 5xx it retries for minutes, a 400 a few times); the run then ends
 * failed with that text as its error.
 */
export async function admitModelRequest({
  deps,
  box,
  model,
}: ModelRequestAdmission): Promise<GatewayRefusal | null> {
  const refusal = await admitSpend({ deps, target: box });
  if (refusal) {
    return { status: 402, type: "billing_error", message: refusal.message };
  }
  // An unpriced model's spend is recorded with cost null and so counts toward no cap: under a cap
  // it would be a way around it, so it is refused there (without a cap it runs, and is flagged).
  if (model !== undefined && !isPricedModel(model)) {
    const { caps } = await spendCaps({ deps, userId: box.userId, boxIds: [box.id] });
    if (caps.length > 0) {
      return {
        status: 402,
        type: "billing_error",
        message: `model '${model.slice(0, 100)}' has no price in this platform's price table, so its spend could not count toward your monthly budget; with a budget set, use a priced model (e.g. ${deps.config.defaultModel}) or ask the operator to add its price`,
      };
    }
  }
  return null;
}
