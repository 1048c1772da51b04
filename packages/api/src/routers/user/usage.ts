import { protectedProcedure } from "../../procedures";
import { usageReport } from "../../services/usage/usage-report";

export const usageRouter = {
  // Not box-scoped: boxId is an optional filter, checked by the service (another user's box is 404).
  report: protectedProcedure.usage.report.handler(({ context, input }) =>
    usageReport({ deps: context.deps, userId: context.user.id, query: input }),
  ),
};
