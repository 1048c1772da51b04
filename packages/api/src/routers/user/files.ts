import { z } from "zod";
import { idParam } from "../../schemas";
import { listBoxFiles, readBoxFile, writeBoxFile } from "../../services/files/box-files";
import { ownedBoxProcedure } from "./cronjob";

const tags = ["Files"];
const pathField = z.string().max(4096, "path must be at most 4096 characters");

export const filesRouter = {
  list: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/fs/list",
      summary: "List a directory in the box's home",
      tags,
    })
    .input(z.object({ boxId: idParam, path: pathField.default("") }))
    .output(
      z.object({
        path: z.string(),
        entries: z.array(
          z.object({ name: z.string(), path: z.string(), type: z.enum(["file", "dir", "symlink", "other"]) }),
        ),
      }),
    )
    .handler(({ context, input }) => listBoxFiles({ deps: context.deps, target: context.box }, input.path)),

  read: ownedBoxProcedure
    .route({
      method: "GET",
      path: "/box/{boxId}/fs/read",
      summary: "Read a file (up to 1 MiB) from the box's home",
      tags,
    })
    .input(z.object({ boxId: idParam, path: pathField.min(1, "path is required") }))
    .output(
      z.object({
        path: z.string(),
        size: z.number(),
        encoding: z.enum(["utf8", "base64"]),
        content: z.string(),
      }),
    )
    .handler(({ context, input }) => readBoxFile({ deps: context.deps, target: context.box }, input.path)),

  write: ownedBoxProcedure
    .route({
      method: "POST",
      path: "/box/{boxId}/fs/write",
      summary: "Write a file (up to 1 MiB) in the box's home",
      tags,
    })
    .input(
      z.object({
        boxId: idParam,
        path: pathField.min(1, "path is required"),
        content: z.string().max(2 * 1024 * 1024),
        encoding: z.enum(["utf8", "base64"]).default("utf8"),
      }),
    )
    .output(z.object({ path: z.string(), size: z.number() }))
    .handler(({ context, input }) =>
      writeBoxFile({ deps: context.deps, target: context.box }, input.path, input.content, input.encoding),
    ),
};
