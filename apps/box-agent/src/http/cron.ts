import { boxAgentContract } from "@vps-claude/contract/box-agent";
import { Hono } from "hono";
import type { RunOutcome, RunRequest } from "../agent/runner";
import { contractRoute } from "./contract-route";

export interface CronRoutesDeps {
  runWithSession: (request: RunRequest) => Promise<RunOutcome>;
  now?: () => Date;
}

/** Tells Claude this turn comes from a schedule, not from a person waiting for an answer. */
export function cronPrompt(input: { cronjobId: string; name: string; prompt: string }, at: Date): string {
  const label = input.name === "" ? input.cronjobId : `"${input.name}" (${input.cronjobId})`;
  return `Scheduled task ${label} triggered at ${at.toISOString()}. No one is waiting for a reply in this conversation; carry out the task:\n\n${input.prompt}`;
}

export function cronRoutes({ runWithSession, now = () => new Date() }: CronRoutesDeps): Hono {
  const app = new Hono();

  contractRoute(app, boxAgentContract.cron.trigger, (body) =>
    runWithSession({ prompt: cronPrompt(body, now()), contextType: "cron", contextId: body.cronjobId }),
  );

  return app;
}
