import { oc } from "@orpc/contract";
import { z } from "zod";
import { agentConfigSchema, updateAgentConfigInput } from "../schemas/agent-config";
import { boxParams } from "../schemas/common";

const tags = ["Agent config"];

export const agentConfigContract = {
  get: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/agent-config",
      summary: "Get the agent config for every trigger type (email, cron, session)",
      tags,
    })
    .input(boxParams)
    .output(z.array(agentConfigSchema)),

  update: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/agent-config",
      summary: "Update the agent config of one trigger type",
      tags,
    })
    .input(boxParams.extend(updateAgentConfigInput.shape))
    .output(agentConfigSchema),
};
