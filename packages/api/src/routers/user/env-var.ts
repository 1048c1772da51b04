import { ownedBoxProcedure } from "../../procedures";
import { createEnvVar, deleteEnvVar, listEnvVars, updateEnvVar } from "../../services/env-var/index";

const envVars = ownedBoxProcedure.envVar;

export const envVarRouter = {
  list: envVars.list.handler(({ context }) => listEnvVars({ deps: context.deps, boxId: context.box.id })),

  create: envVars.create.handler(({ context, input }) =>
    createEnvVar({
      deps: context.deps,
      boxId: context.box.id,
      key: input.key,
      value: input.value,
      type: input.type,
    }),
  ),

  update: envVars.update.handler(({ context, input }) =>
    updateEnvVar({
      deps: context.deps,
      boxId: context.box.id,
      key: input.key,
      value: input.value,
      type: input.type,
    }),
  ),

  delete: envVars.delete.handler(({ context, input }) =>
    deleteEnvVar({ deps: context.deps, boxId: context.box.id, key: input.key }),
  ),
};
