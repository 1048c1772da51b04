import { eventIterator, oc } from "@orpc/contract";
import { z } from "zod";
import { boxParams } from "../schemas/common";
import {
  createRunInput,
  listRunsInput,
  runDetailSchema,
  runEventSchema,
  runPageSchema,
  runParams,
  runSchema,
} from "../schemas/run";

const tags = ["Runs"];

export const runContract = {
  create: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/runs",
      successStatus: 202,
      summary: "Start a run (a chat message to Claude); answers at once with its id",
      tags,
    })
    .input(boxParams.extend(createRunInput.shape))
    /** `contextId`: the chat context the run is in (a new one when none was given), to continue it. */
    .output(z.object({ runId: z.string(), contextId: z.string() })),

  list: oc
    .route({ method: "GET", path: "/box/{boxId}/runs", summary: "The box's runs, newest first", tags })
    .input(boxParams.extend(listRunsInput.shape))
    .output(runPageSchema),

  get: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/runs/{runId}",
      summary: "A run and its transcript so far",
      tags,
    })
    .input(runParams)
    .output(runDetailSchema),

  /**
   * `text/event-stream`: the run's events so far (after `Last-Event-ID` when given), then live ones,
   * then `event: done` with the finished run.
   */
  stream: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/runs/{runId}/stream",
      summary: "Follow a run live (server-sent events)",
      tags,
    })
    .input(runParams)
    .output(eventIterator(runEventSchema, runSchema)),

  cancel: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/runs/{runId}/cancel",
      summary: "Cancel a queued or running run",
      tags,
    })
    .input(runParams)
    .output(runSchema),

  retry: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/runs/{runId}/retry",
      successStatus: 202,
      summary: "Run an interrupted or failed run again (same trigger and input)",
      tags,
    })
    .input(runParams)
    .output(z.object({ runId: z.string() })),
};
