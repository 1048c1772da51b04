import { oc } from "@orpc/contract";
import { z } from "zod";
import { boxParams, idParam } from "../schemas/common";
import {
  createCronjobInput,
  cronjobExecutionSchema,
  cronjobSchema,
  toggleCronjobInput,
  updateCronjobInput,
} from "../schemas/cronjob";

const tags = ["Cronjobs"];
const cronjobParams = z.object({ boxId: idParam, id: idParam });

export const cronjobContract = {
  list: oc
    .route({ method: "GET", path: "/box/{boxId}/cronjobs", summary: "List a box's cronjobs", tags })
    .input(boxParams)
    .output(z.array(cronjobSchema)),

  create: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/cronjobs",
      successStatus: 201,
      summary: "Create a cronjob",
      tags,
    })
    .input(boxParams.extend(createCronjobInput.shape))
    .output(cronjobSchema),

  update: oc
    .route({ method: "PUT", path: "/box/{boxId}/cronjobs/{id}", summary: "Update a cronjob", tags })
    .input(z.intersection(cronjobParams, updateCronjobInput))
    .output(cronjobSchema),

  delete: oc
    .route({ method: "DELETE", path: "/box/{boxId}/cronjobs/{id}", summary: "Delete a cronjob", tags })
    .input(cronjobParams)
    .output(cronjobSchema),

  toggle: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/cronjobs/{id}/toggle",
      summary: "Enable or disable a cronjob",
      tags,
    })
    .input(cronjobParams.extend(toggleCronjobInput.shape))
    .output(cronjobSchema),

  run: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/cronjobs/{id}/run",
      successStatus: 202,
      summary: "Run a cronjob now (recorded like a scheduled run)",
      tags,
    })
    .input(cronjobParams)
    .output(z.object({ queued: z.literal(true) })),

  executions: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/cronjobs/{id}/executions",
      summary: "List a cronjob's runs",
      tags,
    })
    .input(cronjobParams.extend({ limit: z.coerce.number().int().min(1).max(200).default(50) }))
    .output(z.array(cronjobExecutionSchema)),
};
