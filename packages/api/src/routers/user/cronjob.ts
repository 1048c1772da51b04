import { ownedBoxProcedure } from "../../procedures";
import {
  createCronjob,
  deleteCronjob,
  listCronjobExecutions,
  listCronjobs,
  runCronjobNow,
  toggleCronjob,
  updateCronjob,
} from "../../services/cronjob/index";

const cronjobs = ownedBoxProcedure.cronjob;

export const cronjobRouter = {
  list: cronjobs.list.handler(({ context }) => listCronjobs({ deps: context.deps, boxId: context.box.id })),

  create: cronjobs.create.handler(({ context, input: { boxId: _, ...input } }) =>
    createCronjob({ deps: context.deps, boxId: context.box.id, input }),
  ),

  update: cronjobs.update.handler(({ context, input: { boxId: _, id, ...input } }) =>
    updateCronjob({ deps: context.deps, boxId: context.box.id, cronjobId: id, input }),
  ),

  delete: cronjobs.delete.handler(({ context, input }) =>
    deleteCronjob({ deps: context.deps, boxId: context.box.id, cronjobId: input.id }),
  ),

  toggle: cronjobs.toggle.handler(({ context, input }) =>
    toggleCronjob({
      deps: context.deps,
      boxId: context.box.id,
      cronjobId: input.id,
      enabled: input.enabled,
    }),
  ),

  run: cronjobs.run.handler(async ({ context, input }) => {
    await runCronjobNow({ deps: context.deps, boxId: context.box.id, cronjobId: input.id });
    return { queued: true as const };
  }),

  executions: cronjobs.executions.handler(({ context, input }) =>
    listCronjobExecutions({
      deps: context.deps,
      boxId: context.box.id,
      cronjobId: input.id,
      limit: input.limit,
    }),
  ),
};
