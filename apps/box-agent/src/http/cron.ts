import { Hono } from "hono";
import { z } from "zod";
import type { RunOutcome, RunRequest } from "../agent/runner";
import { parseJsonBody } from "./validation";

export interface CronRoutesDeps {
  runWithSession: (request: RunRequest) => Promise<RunOutcome>;
  now?: () => Date;
}

const triggerSchema = z.object({
  cronjobId: z.string().trim().min(1).max(256),
  name: z.string().max(200).default(""),
  prompt: z.string().min(1, "prompt must not be empty").max(100_000),
});

/** Tells Claude this turn comes from a schedule, not from a person waiting for an answer. */
export function cronPrompt(input: { cronjobId: string; name: string; prompt: string }, at: Date): string {
  const label = input.name === "" ? input.cronjobId : `"${input.name}" (${input.cronjobId})`;
  return `Scheduled task ${label} triggered at ${at.toISOString()}. No one is waiting for a reply in this conversation; carry out the task:\n\n${input.prompt}`;
}

export function cronRoutes({ runWithSession, now = () => new Date() }: CronRoutesDeps): Hono {
  const app = new Hono();

  app.post("/trigger", async (c) => {
    const body = await parseJsonBody(c, triggerSchema);
    const outcome = await runWithSession({
      prompt: cronPrompt(body, now()),
      contextType: "cron",
      contextId: body.cronjobId,
    });
    return c.json(outcome);
  });

  return app;
}
