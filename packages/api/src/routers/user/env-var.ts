import { z } from "zod";
import { deletedSchema, envVarKey, envVarSchema, envVarType, idParam, secretValue } from "../../schemas";
import { createEnvVar, deleteEnvVar, listEnvVars, updateEnvVar } from "../../services/env-var/index";
import { ownedBoxProcedure } from "./cronjob";

const tags = ["Env vars"];
const boxParams = z.object({ boxId: idParam });

export const envVarRouter = {
  list: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/env",
      summary: "List a box's env vars (secrets masked)",
      tags,
    })
    .input(boxParams)
    .output(z.array(envVarSchema))
    .handler(({ context }) => listEnvVars({ deps: context.deps, boxId: context.box.id })),

  create: ownedBoxProcedure
    .route({ method: "POST", path: "/box/{boxId}/env", successStatus: 201, summary: "Add an env var", tags })
    .input(boxParams.extend({ key: envVarKey, value: secretValue, type: envVarType.default("plain") }))
    .output(envVarSchema)
    .handler(({ context, input }) =>
      createEnvVar({
        deps: context.deps,
        boxId: context.box.id,
        key: input.key,
        value: input.value,
        type: input.type,
      }),
    ),

  update: ownedBoxProcedure
    .route({ method: "PUT", path: "/box/{boxId}/env/{key}", summary: "Change an env var", tags })
    .input(boxParams.extend({ key: envVarKey, value: secretValue, type: envVarType.optional() }))
    .output(envVarSchema)
    .handler(({ context, input }) =>
      updateEnvVar({
        deps: context.deps,
        boxId: context.box.id,
        key: input.key,
        value: input.value,
        type: input.type,
      }),
    ),

  delete: ownedBoxProcedure
    .route({ method: "DELETE", path: "/box/{boxId}/env/{key}", summary: "Delete an env var", tags })
    .input(boxParams.extend({ key: envVarKey }))
    .output(deletedSchema)
    .handler(({ context, input }) =>
      deleteEnvVar({ deps: context.deps, boxId: context.box.id, key: input.key }),
    ),
};
