import type { InferContractRouterInputs, InferContractRouterOutputs } from "@orpc/contract";
import { oc } from "@orpc/contract";
import { z } from "zod";
import { agentConfigSchema, triggerTypeSchema } from "../schemas/agent-config";
import { idParam } from "../schemas/common";
import {
  createCronjobInput,
  cronjobSchema,
  toggleCronjobInput,
  updateCronjobInput,
} from "../schemas/cronjob";
import { queuedEmailSchema, sendEmailInput } from "../schemas/email";
import { aiContract } from "./ai";

const tags = ["Box API"];
const cronjobParams = z.object({ id: idParam });

/** What a box may call with its own token (X-Box-Secret), served under /box. Always scoped to that box. */
export const boxContract = {
  ai: aiContract,
  email: {
    send: oc
      .route({
        method: "POST",
        path: "/email/send",
        successStatus: 202,
        summary: "Queue an email from this box",
        tags,
      })
      .input(sendEmailInput)
      .output(queuedEmailSchema),
  },
  agentConfig: {
    get: oc
      .route({ method: "GET", path: "/agent-config", summary: "Agent config for a trigger type", tags })
      .input(z.object({ triggerType: triggerTypeSchema }))
      .output(agentConfigSchema),
  },
  cronjob: {
    list: oc
      .route({ method: "GET", path: "/cronjobs", summary: "List this box's cronjobs", tags })
      .output(z.array(cronjobSchema)),
    create: oc
      .route({ method: "POST", path: "/cronjobs", successStatus: 201, summary: "Create a cronjob", tags })
      .input(createCronjobInput)
      .output(cronjobSchema),
    update: oc
      .route({ method: "PUT", path: "/cronjobs/{id}", summary: "Update a cronjob", tags })
      .input(z.intersection(cronjobParams, updateCronjobInput))
      .output(cronjobSchema),
    delete: oc
      .route({ method: "DELETE", path: "/cronjobs/{id}", summary: "Delete a cronjob", tags })
      .input(cronjobParams)
      .output(cronjobSchema),
    toggle: oc
      .route({ method: "POST", path: "/cronjobs/{id}/toggle", summary: "Enable or disable a cronjob", tags })
      .input(cronjobParams.extend(toggleCronjobInput.shape))
      .output(cronjobSchema),
  },
};

export type BoxContract = typeof boxContract;
export type BoxInputs = InferContractRouterInputs<BoxContract>;
export type BoxOutputs = InferContractRouterOutputs<BoxContract>;
