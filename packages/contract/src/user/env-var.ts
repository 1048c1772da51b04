import { oc } from "@orpc/contract";
import { z } from "zod";
import { boxParams, deletedSchema } from "../schemas/common";
import { envVarKey, envVarSchema, envVarType, secretValue } from "../schemas/secrets";

const tags = ["Env vars"];

export const envVarContract = {
  list: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/env",
      summary: "List a box's env vars (secrets masked)",
      tags,
    })
    .input(boxParams)
    .output(z.array(envVarSchema)),

  create: oc
    .route({ method: "POST", path: "/box/{boxId}/env", successStatus: 201, summary: "Add an env var", tags })
    .input(boxParams.extend({ key: envVarKey, value: secretValue, type: envVarType.default("plain") }))
    .output(envVarSchema),

  update: oc
    .route({ method: "PUT", path: "/box/{boxId}/env/{key}", summary: "Change an env var", tags })
    .input(boxParams.extend({ key: envVarKey, value: secretValue, type: envVarType.optional() }))
    .output(envVarSchema),

  delete: oc
    .route({ method: "DELETE", path: "/box/{boxId}/env/{key}", summary: "Delete an env var", tags })
    .input(boxParams.extend({ key: envVarKey }))
    .output(deletedSchema),
};
