import { ownedBoxProcedure } from "../../procedures";
import { listBoxFiles, readBoxFile, writeBoxFile } from "../../services/files/box-files";

const files = ownedBoxProcedure.files;

export const filesRouter = {
  list: files.list.handler(({ context, input }) =>
    listBoxFiles({ deps: context.deps, target: context.box }, input.path),
  ),

  read: files.read.handler(({ context, input }) =>
    readBoxFile({ deps: context.deps, target: context.box }, input.path),
  ),

  write: files.write.handler(({ context, input }) =>
    writeBoxFile({ deps: context.deps, target: context.box }, input.path, input.content, input.encoding),
  ),
};
