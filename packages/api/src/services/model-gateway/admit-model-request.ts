import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
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
 * model now. Every request is admitted today; the budget check (DESIGN "Money") goes here, and a
 * refusal it returns reaches Claude in the API's error shape.
 */
export async function admitModelRequest(_admission: ModelRequestAdmission): Promise<GatewayRefusal | null> {
  return null;
}
