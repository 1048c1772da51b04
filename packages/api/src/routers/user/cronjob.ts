import { z } from "zod";
import { protectedProcedure } from "../../procedures";
import {
  createCronjobInput,
  cronjobExecutionSchema,
  cronjobSchema,
  idParam,
  updateCronjobInput,
} from "../../schemas";
import { getOwnedBox } from "../../services/box/get-owned-box";
import {
  createCronjob,
  deleteCronjob,
  listCronjobExecutions,
  listCronjobs,
  runCronjobNow,
  toggleCronjob,
  updateCronjob,
} from "../../services/cronjob/index";

const tags = ["Cronjobs"];

/** Every cronjob route first proves the box is the caller's. */
const ownedBoxProcedure = protectedProcedure.use(async ({ context, next }, input: unknown) => {
  // Runs before input validation, so another user's box is a 404 whatever else the request got wrong.
  const boxId =
    typeof input === "object" && input !== null && "boxId" in input && typeof input.boxId === "string"
      ? input.boxId
      : "";
  const box = await getOwnedBox({ db: context.deps.db, userId: context.user.id, boxId });
  return next({ context: { box } });
});

const boxParams = z.object({ boxId: idParam });
const cronjobParams = z.object({ boxId: idParam, id: idParam });

export const cronjobRouter = {
  list: ownedBoxProcedure
    .route({ method: "GET", path: "/box/{boxId}/cronjobs", summary: "List a box's cronjobs", tags })
    .input(boxParams)
    .output(z.array(cronjobSchema))
    .handler(({ context }) => listCronjobs({ deps: context.deps, boxId: context.box.id })),

  create: ownedBoxProcedure
    .route({
      method: "POST",
      path: "/box/{boxId}/cronjobs",
      successStatus: 201,
      summary: "Create a cronjob",
      tags,
    })
    .input(boxParams.extend(createCronjobInput.shape))
    .output(cronjobSchema)
    .handler(({ context, input: { boxId: _, ...input } }) =>
      createCronjob({ deps: context.deps, boxId: context.box.id, input }),
    ),

  update: ownedBoxProcedure
    .route({ method: "PUT", path: "/box/{boxId}/cronjobs/{id}", summary: "Update a cronjob", tags })
    .input(z.intersection(cronjobParams, updateCronjobInput))
    .output(cronjobSchema)
    .handler(({ context, input: { boxId: _, id, ...input } }) =>
      updateCronjob({ deps: context.deps, boxId: context.box.id, cronjobId: id, input }),
    ),

  delete: ownedBoxProcedure
    .route({ method: "DELETE", path: "/box/{boxId}/cronjobs/{id}", summary: "Delete a cronjob", tags })
    .input(cronjobParams)
    .output(cronjobSchema)
    .handler(({ context, input }) =>
      deleteCronjob({ deps: context.deps, boxId: context.box.id, cronjobId: input.id }),
    ),

  toggle: ownedBoxProcedure
    .route({
      method: "POST",
      path: "/box/{boxId}/cronjobs/{id}/toggle",
      summary: "Enable or disable a cronjob",
      tags,
    })
    .input(cronjobParams.extend({ enabled: z.boolean().optional() }))
    .output(cronjobSchema)
    .handler(({ context, input }) =>
      toggleCronjob({
        deps: context.deps,
        boxId: context.box.id,
        cronjobId: input.id,
        enabled: input.enabled,
      }),
    ),

  run: ownedBoxProcedure
    .route({
      method: "POST",
      path: "/box/{boxId}/cronjobs/{id}/run",
      successStatus: 202,
      summary: "Run a cronjob now (recorded like a scheduled run)",
      tags,
    })
    .input(cronjobParams)
    .output(z.object({ queued: z.literal(true) }))
    .handler(async ({ context, input }) => {
      await runCronjobNow({ deps: context.deps, boxId: context.box.id, cronjobId: input.id });
      return { queued: true as const };
    }),

  executions: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/cronjobs/{id}/executions",
      summary: "List a cronjob's runs",
      tags,
    })
    .input(cronjobParams.extend({ limit: z.coerce.number().int().min(1).max(200).default(50) }))
    .output(z.array(cronjobExecutionSchema))
    .handler(({ context, input }) =>
      listCronjobExecutions({
        deps: context.deps,
        boxId: context.box.id,
        cronjobId: input.id,
        limit: input.limit,
      }),
    ),
};

export { ownedBoxProcedure };
