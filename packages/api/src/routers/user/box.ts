import { protectedProcedure } from "../../procedures";
import { createBox, deleteBox, getBox, listBoxes, redeployBox } from "../../services/box/index";
import { listSkills } from "../../services/skills/skill-catalog";

const boxes = protectedProcedure.box;

export const boxRouter = {
  list: boxes.list.handler(({ context, input }) =>
    listBoxes({ deps: context.deps, userId: context.user.id, limit: input.limit, before: input.before }),
  ),

  get: boxes.get.handler(({ context, input }) =>
    getBox({ deps: context.deps, userId: context.user.id, boxId: input.id }),
  ),

  create: boxes.create.handler(({ context, input }) =>
    createBox({ deps: context.deps, userId: context.user.id, name: input.name, skills: input.skills }),
  ),

  redeploy: boxes.redeploy.handler(({ context, input }) =>
    redeployBox({ deps: context.deps, userId: context.user.id, boxId: input.id }),
  ),

  // Only what the contract shows: a skill's folder on the platform host is not the caller's business.
  skills: boxes.skills.handler(async ({ context }) =>
    (await listSkills(context.deps.config.skillsDir)).map(({ name, description }) => ({ name, description })),
  ),

  delete: boxes.delete.handler(({ context, input }) =>
    deleteBox({ deps: context.deps, userId: context.user.id, boxId: input.id }),
  ),
};
