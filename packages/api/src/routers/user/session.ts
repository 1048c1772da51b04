import { ownedBoxProcedure } from "../../procedures";
import { getBoxAccess } from "../../services/box/get-box-access";
import { listBoxDeploySteps } from "../../services/box/list-box-deploy-steps";
import { listBoxSessions, sendBoxSessionMessage } from "../../services/session/box-sessions";

const deploy = ownedBoxProcedure.deploy;
const sessions = ownedBoxProcedure.session;

export const deployRouter = {
  access: deploy.access.handler(({ context }) => getBoxAccess({ deps: context.deps, target: context.box })),

  steps: deploy.steps.handler(({ context }) =>
    listBoxDeploySteps({ deps: context.deps, target: context.box }),
  ),
};

export const sessionRouter = {
  list: sessions.list.handler(({ context }) => listBoxSessions({ deps: context.deps, target: context.box })),

  send: sessions.send.handler(({ context, input, signal }) =>
    sendBoxSessionMessage({
      deps: context.deps,
      target: context.box,
      contextId: input.contextId,
      message: input.message,
      signal,
    }),
  ),
};
