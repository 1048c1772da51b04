import { protectedProcedure } from "../../procedures";
import {
  createCredential,
  deleteCredential,
  listCredentials,
  updateCredential,
} from "../../services/credential/index";

const credentials = protectedProcedure.credential;

export const credentialRouter = {
  list: credentials.list.handler(({ context }) =>
    listCredentials({ deps: context.deps, userId: context.user.id }),
  ),

  create: credentials.create.handler(({ context, input }) =>
    createCredential({ deps: context.deps, userId: context.user.id, ...input }),
  ),

  update: credentials.update.handler(({ context, input }) =>
    updateCredential({ deps: context.deps, userId: context.user.id, ...input }),
  ),

  delete: credentials.delete.handler(({ context, input }) =>
    deleteCredential({ deps: context.deps, userId: context.user.id, key: input.key }),
  ),
};
