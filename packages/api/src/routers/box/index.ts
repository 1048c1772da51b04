import { boxApi, boxProcedure } from "../../procedures";
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

const { email, agentConfig, cronjob } = boxProcedure;

/** What a box may call with its own token (X-Box-Secret), served under /box: `boxContract`, implemented. */
export const boxApiRouter = boxApi.router({
  ai: aiRouter,
  email: {
    send: email.send.handler(async ({ context, input }) => {
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
    get: agentConfig.get.handler(({ context, input }) =>
      getAgentConfig({ deps: context.deps, boxId: context.box.id, triggerType: input.triggerType }),
    ),
  },
  cronjob: {
    list: cronjob.list.handler(({ context }) => listCronjobs({ deps: context.deps, boxId: context.box.id })),
    create: cronjob.create.handler(({ context, input }) =>
      createCronjob({ deps: context.deps, boxId: context.box.id, input }),
    ),
    update: cronjob.update.handler(({ context, input: { id, ...input } }) =>
      updateCronjob({ deps: context.deps, boxId: context.box.id, cronjobId: id, input }),
    ),
    delete: cronjob.delete.handler(({ context, input }) =>
      deleteCronjob({ deps: context.deps, boxId: context.box.id, cronjobId: input.id }),
    ),
    toggle: cronjob.toggle.handler(({ context, input }) =>
      toggleCronjob({
        deps: context.deps,
        boxId: context.box.id,
        cronjobId: input.id,
        enabled: input.enabled,
      }),
    ),
  },
});

export type BoxApiRouter = typeof boxApiRouter;
