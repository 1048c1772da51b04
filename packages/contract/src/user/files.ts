import { oc } from "@orpc/contract";
import { boxParams } from "../schemas/common";
import {
  directoryListingSchema,
  fileContentSchema,
  listFilesInput,
  readFileInput,
  writeFileInput,
  writtenFileSchema,
} from "../schemas/files";

const tags = ["Files"];

export const filesContract = {
  list: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/fs/list",
      summary: "List a directory in the box's home",
      tags,
    })
    .input(boxParams.extend(listFilesInput.shape))
    .output(directoryListingSchema),

  read: oc
    .route({
      method: "GET",
      path: "/box/{boxId}/fs/read",
      summary: "Read a file (up to 1 MiB) from the box's home",
      tags,
    })
    .input(boxParams.extend(readFileInput.shape))
    .output(fileContentSchema),

  write: oc
    .route({
      method: "POST",
      path: "/box/{boxId}/fs/write",
      summary: "Write a file (up to 1 MiB) in the box's home",
      tags,
    })
    .input(boxParams.extend(writeFileInput.shape))
    .output(writtenFileSchema),
};
