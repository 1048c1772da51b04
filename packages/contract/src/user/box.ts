import { oc } from "@orpc/contract";
import { z } from "zod";
import { boxSchema, createBoxInput, skillSchema } from "../schemas/box";
import { idParam } from "../schemas/common";

const tags = ["Boxes"];
const boxId = z.object({ id: idParam });

export const boxesContract = {
  list: oc
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
    .output(z.array(boxSchema)),

  get: oc
    .route({ method: "GET", path: "/box/{id}", summary: "Get one box", tags })
    .input(boxId)
    .output(boxSchema),

  create: oc
    .route({
      method: "POST",
      path: "/box",
      successStatus: 201,
      summary: "Create a box and start deploying it",
      tags,
    })
    .input(createBoxInput)
    .output(boxSchema),

  redeploy: oc
    .route({
      method: "POST",
      path: "/box/deploy",
      summary: "Redeploy a box (joins a deploy already running)",
      tags,
    })
    .input(boxId)
    .output(boxSchema),

  skills: oc
    .route({ method: "GET", path: "/skills", summary: "List the skills a box can be created with", tags })
    .output(z.array(skillSchema)),

  delete: oc
    .route({
      method: "DELETE",
      path: "/box/{id}",
      summary: "Delete a box, its sandbox and everything it owns",
      tags,
    })
    .input(boxId)
    .output(boxSchema),
};
