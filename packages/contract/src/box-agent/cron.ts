import { z } from "zod";
import { boxAgentRoute } from "./base";
import { RUN_ANSWER_MAX_BYTES, runOutcomeSchema } from "./sessions";

export const cronTriggerInput = z.object({
  cronjobId: z.string().trim().min(1).max(256),
  name: z.string().max(200).default(""),
  prompt: z.string().min(1, "prompt must not be empty").max(100_000),
});

export const cron = {
  /** One scheduled tick, run in the cronjob's own Claude session; answers when the run ends. */
  trigger: boxAgentRoute
    .route({ method: "POST", path: "/cron/trigger" })
    .meta({ maxAnswerBytes: RUN_ANSWER_MAX_BYTES })
    .input(cronTriggerInput)
    .output(runOutcomeSchema),
};
