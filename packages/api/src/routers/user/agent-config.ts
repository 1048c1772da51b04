import { ownedBoxProcedure } from "../../procedures";
import { listAgentConfigs, updateAgentConfig } from "../../services/agent-config/index";

const agentConfig = ownedBoxProcedure.agentConfig;

export const agentConfigRouter = {
  get: agentConfig.get.handler(({ context }) =>
    listAgentConfigs({ deps: context.deps, boxId: context.box.id }),
  ),

  update: agentConfig.update.handler(({ context, input: { boxId: _, ...patch } }) =>
    updateAgentConfig({ deps: context.deps, boxId: context.box.id, patch }),
  ),
};
