import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
import { stepLabel } from "../deploy/deploy-pipeline";
import { listDeploySteps } from "../deploy/deploy-steps";

type BoxRow = typeof box.$inferSelect;

/** The steps of the box's latest deploy, labelled for people; none before its first deploy. */
export async function listBoxDeploySteps({ deps, target }: { deps: ApiDeps; target: BoxRow }) {
  const deployId = target.deployId;
  if (!deployId) {
    return { deployId: null, steps: [] };
  }
  const rows = await listDeploySteps({ db: deps.db, boxId: target.id, deployId });
  return {
    deployId,
    steps: rows.map((row) => ({
      step: row.step,
      label: stepLabel(row.step),
      status: row.status,
      attempt: row.attempt,
      startedAt: row.startedAt,
      completedAt: row.completedAt,
      durationMs: row.durationMs,
      logExcerpt: row.logExcerpt,
      errorMessage: row.errorMessage,
    })),
  };
}
