import { ownedBoxProcedure } from "../../procedures";
import { cancelRun } from "../../services/run/cancel-run";
import { getBoxRunRow, getRun } from "../../services/run/get-run";
import { listRuns } from "../../services/run/list-runs";
import { retryRun } from "../../services/run/retry-run";
import { parseLastEventId, streamRunEvents } from "../../services/run/run-stream";
import { startChatRun } from "../../services/run/start-chat-run";

const runs = ownedBoxProcedure.run;

export const runRouter = {
  create: runs.create.handler(({ context, input }) =>
    startChatRun({
      deps: context.deps,
      target: context.box,
      contextId: input.contextId,
      message: input.message,
    }),
  ),

  list: runs.list.handler(({ context, input: { boxId: _, ...filter } }) =>
    listRuns({ deps: context.deps, boxId: context.box.id, filter }),
  ),

  get: runs.get.handler(({ context, input }) =>
    getRun({ deps: context.deps, boxId: context.box.id, runId: input.runId }),
  ),

  stream: runs.stream.handler(async ({ context, input, lastEventId, signal }) => {
    // Before the stream opens, so an unknown run is a plain 404 rather than a stream that fails.
    await getBoxRunRow({ db: context.deps.db, boxId: context.box.id, runId: input.runId });
    return streamRunEvents({
      deps: context.deps,
      boxId: context.box.id,
      runId: input.runId,
      afterSeq: parseLastEventId(lastEventId),
      signal,
    });
  }),

  cancel: runs.cancel.handler(({ context, input }) =>
    cancelRun({ deps: context.deps, target: context.box, runId: input.runId }),
  ),

  retry: runs.retry.handler(({ context, input }) =>
    retryRun({ deps: context.deps, target: context.box, runId: input.runId }),
  ),
};
