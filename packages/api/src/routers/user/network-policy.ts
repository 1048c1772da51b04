import { ownedBoxProcedure } from "../../procedures";
import { getBoxNetworkPolicy, updateBoxNetworkPolicy } from "../../services/box/box-network-policy";

const networkPolicy = ownedBoxProcedure.networkPolicy;

export const networkPolicyRouter = {
  get: networkPolicy.get.handler(({ context }) => getBoxNetworkPolicy(context.box)),

  update: networkPolicy.update.handler(({ context, input }) =>
    updateBoxNetworkPolicy({
      deps: context.deps,
      target: context.box,
      policy: { mode: input.mode, domains: input.domains },
    }),
  ),
};
