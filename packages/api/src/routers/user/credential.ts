import { z } from "zod";
import { protectedProcedure } from "../../procedures";
import { credentialKey, credentialSchema, deletedSchema, secretValue } from "../../schemas";
import {
  createCredential,
  deleteCredential,
  listCredentials,
  updateCredential,
} from "../../services/credential/index";

const tags = ["Credentials"];

export const credentialRouter = {
  list: protectedProcedure
    .route({ method: "GET", path: "/credentials", summary: "List your credentials (values masked)", tags })
    .output(z.array(credentialSchema))
    .handler(({ context }) => listCredentials({ deps: context.deps, userId: context.user.id })),

  create: protectedProcedure
    .route({ method: "POST", path: "/credentials", successStatus: 201, summary: "Store a credential", tags })
    .input(z.object({ key: credentialKey, value: secretValue }))
    .output(credentialSchema)
    .handler(({ context, input }) =>
      createCredential({ deps: context.deps, userId: context.user.id, ...input }),
    ),

  update: protectedProcedure
    .route({ method: "PUT", path: "/credentials/{key}", summary: "Replace a credential's value", tags })
    .input(z.object({ key: credentialKey, value: secretValue }))
    .output(credentialSchema)
    .handler(({ context, input }) =>
      updateCredential({ deps: context.deps, userId: context.user.id, ...input }),
    ),

  delete: protectedProcedure
    .route({ method: "DELETE", path: "/credentials/{key}", summary: "Delete a credential", tags })
    .input(z.object({ key: credentialKey }))
    .output(deletedSchema)
    .handler(({ context, input }) =>
      deleteCredential({ deps: context.deps, userId: context.user.id, key: input.key }),
    ),
};
