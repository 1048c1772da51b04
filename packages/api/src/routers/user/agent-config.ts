import { z } from "zod";
import { agentConfigSchema, idParam, updateAgentConfigInput } from "../../schemas";
import { listAgentConfigs, updateAgentConfig } from "../../services/agent-config/index";
import { ownedBoxProcedure } from "./cronjob";

const tags = ["Agent config"];

export const agentConfigRouter = {
  get: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/agent-config",
      summary: "Get the agent config for every trigger type (email, cron, session)",
      tags,
    })
    .input(z.object({ boxId: idParam }))
    .output(z.array(agentConfigSchema))
    .handler(({ context }) => listAgentConfigs({ deps: context.deps, boxId: context.box.id })),

  update: ownedBoxProcedure
    .route({
      method: "POST",
      path: "/box/{boxId}/agent-config",
      summary: "Update the agent config of one trigger type",
      tags,
    })
    .input(z.object({ boxId: idParam }).extend(updateAgentConfigInput.shape))
    .output(agentConfigSchema)
    .handler(({ context, input: { boxId: _, ...patch } }) =>
      updateAgentConfig({ deps: context.deps, boxId: context.box.id, patch }),
    ),
};
