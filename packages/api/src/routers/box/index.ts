import { z } from "zod";
import { boxProcedure } from "../../procedures";
import {
  agentConfigSchema,
  createCronjobInput,
  cronjobSchema,
  idParam,
  sendEmailInput,
  triggerTypeSchema,
  updateCronjobInput,
} from "../../schemas";
import { getAgentConfig } from "../../services/agent-config/index";
import {
  createCronjob,
  deleteCronjob,
  listCronjobs,
  toggleCronjob,
  updateCronjob,
} from "../../services/cronjob/index";
import { queueOutboundEmail } from "../../services/email/queue-outbound-email";
import { aiRouter } from "./ai";

const tags = ["Box API"];
const cronjobParams = z.object({ id: idParam });

/** What a box may call with its own token (X-Box-Secret), served under /box. Always scoped to that box. */
export const boxApiRouter = {
  ai: aiRouter,
  email: {
    send: boxProcedure
      .route({
        method: "POST",
        path: "/email/send",
        successStatus: 202,
        summary: "Queue an email from this box",
        tags,
      })
      .input(sendEmailInput)
      .output(
        z.object({
          id: z.string(),
          status: z.string(),
          messageId: z.string(),
          threadId: z.string(),
          subject: z.string(),
        }),
      )
      .handler(async ({ context, input }) => {
        const row = await queueOutboundEmail({
          deps: context.deps,
          target: context.box,
          request: { ...input, cc: input.cc ?? [] },
        });
        return {
          id: row.id,
          status: row.status,
          messageId: row.messageId,
          threadId: row.threadId,
          subject: row.subject,
        };
      }),
  },
  agentConfig: {
    get: boxProcedure
      .route({ method: "GET", path: "/agent-config", summary: "Agent config for a trigger type", tags })
      .input(z.object({ triggerType: triggerTypeSchema }))
      .output(agentConfigSchema)
      .handler(({ context, input }) =>
        getAgentConfig({ deps: context.deps, boxId: context.box.id, triggerType: input.triggerType }),
      ),
  },
  cronjob: {
    list: boxProcedure
      .route({ method: "GET", path: "/cronjobs", summary: "List this box's cronjobs", tags })
      .output(z.array(cronjobSchema))
      .handler(({ context }) => listCronjobs({ deps: context.deps, boxId: context.box.id })),
    create: boxProcedure
      .route({ method: "POST", path: "/cronjobs", successStatus: 201, summary: "Create a cronjob", tags })
      .input(createCronjobInput)
      .output(cronjobSchema)
      .handler(({ context, input }) => createCronjob({ deps: context.deps, boxId: context.box.id, input })),
    update: boxProcedure
      .route({ method: "PUT", path: "/cronjobs/{id}", summary: "Update a cronjob", tags })
      .input(z.intersection(cronjobParams, updateCronjobInput))
      .output(cronjobSchema)
      .handler(({ context, input: { id, ...input } }) =>
        updateCronjob({ deps: context.deps, boxId: context.box.id, cronjobId: id, input }),
      ),
    delete: boxProcedure
      .route({ method: "DELETE", path: "/cronjobs/{id}", summary: "Delete a cronjob", tags })
      .input(cronjobParams)
      .output(cronjobSchema)
      .handler(({ context, input }) =>
        deleteCronjob({ deps: context.deps, boxId: context.box.id, cronjobId: input.id }),
      ),
    toggle: boxProcedure
      .route({ method: "POST", path: "/cronjobs/{id}/toggle", summary: "Enable or disable a cronjob", tags })
      .input(cronjobParams.extend({ enabled: z.boolean().optional() }))
      .output(cronjobSchema)
      .handler(({ context, input }) =>
        toggleCronjob({
          deps: context.deps,
          boxId: context.box.id,
          cronjobId: input.id,
          enabled: input.enabled,
        }),
      ),
  },
};

export type BoxApiRouter = typeof boxApiRouter;
