import { z } from "zod";
import { protectedProcedure } from "../../procedures";
import { boxSchema, createBoxInput, idParam } from "../../schemas";
import { createBox, deleteBox, getBox, listBoxes, redeployBox } from "../../services/box/index";
import { listSkills } from "../../services/skills/skill-catalog";

const tags = ["Boxes"];

export const boxRouter = {
  list: protectedProcedure
    .route({
      method: "GET",
      path: "/box",
      summary: "List your boxes, newest first (a page of `limit`; pass the last id as `before` for the next)",
      tags,
    })
    .input(
      z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: idParam.optional(),
      }),
    )
    .output(z.array(boxSchema))
    .handler(({ context, input }) =>
      listBoxes({ deps: context.deps, userId: context.user.id, limit: input.limit, before: input.before }),
    ),

  get: protectedProcedure
    .route({ method: "GET", path: "/box/{id}", summary: "Get one box", tags })
    .input(z.object({ id: idParam }))
    .output(boxSchema)
    .handler(({ context, input }) =>
      getBox({ deps: context.deps, userId: context.user.id, boxId: input.id }),
    ),

  create: protectedProcedure
    .route({
      method: "POST",
      path: "/box",
      successStatus: 201,
      summary: "Create a box and start deploying it",
      tags,
    })
    .input(createBoxInput)
    .output(boxSchema)
    .handler(({ context, input }) =>
      createBox({ deps: context.deps, userId: context.user.id, name: input.name, skills: input.skills }),
    ),

  redeploy: protectedProcedure
    .route({
      method: "POST",
      path: "/box/deploy",
      summary: "Redeploy a box (joins a deploy already running)",
      tags,
    })
    .input(z.object({ id: idParam }))
    .output(boxSchema)
    .handler(({ context, input }) =>
      redeployBox({ deps: context.deps, userId: context.user.id, boxId: input.id }),
    ),

  skills: protectedProcedure
    .route({ method: "GET", path: "/skills", summary: "List the skills a box can be created with", tags })
    .output(z.array(z.object({ name: z.string(), description: z.string() })))
    .handler(async ({ context }) =>
      (await listSkills(context.deps.config.skillsDir)).map(({ name, description }) => ({
        name,
        description,
      })),
    ),

  delete: protectedProcedure
    .route({
      method: "DELETE",
      path: "/box/{id}",
      summary: "Delete a box, its sandbox and everything it owns",
      tags,
    })
    .input(z.object({ id: idParam }))
    .output(boxSchema)
    .handler(({ context, input }) =>
      deleteBox({ deps: context.deps, userId: context.user.id, boxId: input.id }),
    ),
};
