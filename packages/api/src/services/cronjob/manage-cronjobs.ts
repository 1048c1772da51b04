import { boxCronjob, boxCronjobExecution } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { and, count, desc, eq, not } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { isUniqueViolation, notFound, ServiceError } from "../../errors";
import { lockOwnerLimit } from "../limits/owner-lock";
import { enqueueOrFail } from "../queue/enqueue-or-fail";
import { ledgerCostOfRuns } from "../run/run-cost";
import {
  type CronjobDto,
  type CronjobExecutionDto,
  type CronjobRow,
  toCronjobDto,
  toCronjobExecutionDto,
} from "./cronjob-dto";
import { removeCronjobSchedule, syncCronjobSchedule } from "./sync-cronjob-schedule";

export const MAX_CRONJOBS_PER_BOX = 50;

export interface CronjobInput {
  name: string;
  schedule: string;
  prompt: string;
  timezone?: string;
  enabled?: boolean;
  overlap?: CronjobRow["overlap"];
  session?: CronjobRow["sessionMode"];
  /** null: back to the cron agent config's model. */
  model?: string | null;
  /** null: back to the cron agent config's limit. */
  maxDurationMinutes?: number | null;
}

/** The run settings of an input as columns; undefined leaves a column as it is. */
function runSettings(input: Partial<CronjobInput>) {
  return {
    overlap: input.overlap,
    sessionMode: input.session,
    model: input.model,
    maxDurationMinutes: input.maxDurationMinutes,
  };
}

const duplicateName = (name: string) =>
  new ServiceError("CONFLICT", `a cronjob named '${name}' already exists on this box; choose another name`);

export async function listCronjobs({ deps, boxId }: { deps: ApiDeps; boxId: string }): Promise<CronjobDto[]> {
  const rows = await deps.db
    .select()
    .from(boxCronjob)
    .where(eq(boxCronjob.boxId, boxId))
    .orderBy(boxCronjob.createdAt, boxCronjob.id);
  const now = new Date();
  return rows.map((row) => toCronjobDto(row, now));
}

async function getCronjob(deps: ApiDeps, boxId: string, cronjobId: string) {
  const [row] = await deps.db
    .select()
    .from(boxCronjob)
    .where(and(eq(boxCronjob.id, cronjobId), eq(boxCronjob.boxId, boxId)))
    .limit(1);
  if (!row) {
    throw notFound("cronjob", cronjobId);
  }
  return row;
}

export async function createCronjob({
  deps,
  boxId,
  input,
}: {
  deps: ApiDeps;
  boxId: string;
  input: CronjobInput;
}) {
  try {
    const row = await deps.db.transaction(async (tx) => {
      await lockOwnerLimit(tx, "cronjobsPerBox", boxId);
      const [existing] = await tx.select({ n: count() }).from(boxCronjob).where(eq(boxCronjob.boxId, boxId));
      if ((existing?.n ?? 0) >= MAX_CRONJOBS_PER_BOX) {
        throw new ServiceError(
          "FORBIDDEN",
          `a box may have at most ${MAX_CRONJOBS_PER_BOX} cronjobs; delete one first`,
        );
      }
      const [inserted] = await tx
        .insert(boxCronjob)
        .values({
          id: newId("cronjob"),
          boxId,
          name: input.name,
          schedule: input.schedule,
          prompt: input.prompt,
          timezone: input.timezone ?? "UTC",
          enabled: input.enabled ?? true,
          overlap: input.overlap ?? "skip",
          sessionMode: input.session ?? "fresh",
          model: input.model ?? null,
          maxDurationMinutes: input.maxDurationMinutes ?? null,
        })
        .returning();
      return inserted;
    });
    if (!row) {
      throw new Error("insert returned no row");
    }
    await syncCronjobSchedule({ deps, cronjob: row });
    return toCronjobDto(row);
  } catch (err) {
    if (isUniqueViolation(err, "box_cronjob_box_id_name_idx")) {
      throw duplicateName(input.name);
    }
    throw err;
  }
}

export async function updateCronjob({
  deps,
  boxId,
  cronjobId,
  input,
}: {
  deps: ApiDeps;
  boxId: string;
  cronjobId: string;
  input: Partial<CronjobInput>;
}) {
  await getCronjob(deps, boxId, cronjobId);
  try {
    const [row] = await deps.db
      .update(boxCronjob)
      .set({
        name: input.name,
        schedule: input.schedule,
        prompt: input.prompt,
        timezone: input.timezone,
        enabled: input.enabled,
        ...runSettings(input),
        updatedAt: new Date(),
      })
      .where(and(eq(boxCronjob.id, cronjobId), eq(boxCronjob.boxId, boxId)))
      .returning();
    if (!row) {
      throw notFound("cronjob", cronjobId);
    }
    await syncCronjobSchedule({ deps, cronjob: row });
    return toCronjobDto(row);
  } catch (err) {
    if (isUniqueViolation(err, "box_cronjob_box_id_name_idx") && input.name) {
      throw duplicateName(input.name);
    }
    throw err;
  }
}

export async function toggleCronjob({
  deps,
  boxId,
  cronjobId,
  enabled,
}: {
  deps: ApiDeps;
  boxId: string;
  cronjobId: string;
  enabled?: boolean;
}) {
  await getCronjob(deps, boxId, cronjobId);
  const [row] = await deps.db
    .update(boxCronjob)
    .set({ enabled: enabled ?? not(boxCronjob.enabled), updatedAt: new Date() })
    .where(and(eq(boxCronjob.id, cronjobId), eq(boxCronjob.boxId, boxId)))
    .returning();
  if (!row) {
    throw notFound("cronjob", cronjobId);
  }
  await syncCronjobSchedule({ deps, cronjob: row });
  return toCronjobDto(row);
}

export async function deleteCronjob({
  deps,
  boxId,
  cronjobId,
}: {
  deps: ApiDeps;
  boxId: string;
  cronjobId: string;
}) {
  const row = await getCronjob(deps, boxId, cronjobId);
  await deps.db.delete(boxCronjob).where(and(eq(boxCronjob.id, cronjobId), eq(boxCronjob.boxId, boxId)));
  await removeCronjobSchedule({ deps, cronjobId });
  // Gone from the scheduler: it has no next runs, whatever it was.
  return { ...toCronjobDto(row), nextRuns: [] };
}

export async function listCronjobExecutions({
  deps,
  boxId,
  cronjobId,
  limit,
}: {
  deps: ApiDeps;
  boxId: string;
  cronjobId: string;
  limit: number;
}): Promise<CronjobExecutionDto[]> {
  await getCronjob(deps, boxId, cronjobId);
  const executions = await deps.db
    .select()
    .from(boxCronjobExecution)
    .where(eq(boxCronjobExecution.cronjobId, cronjobId))
    .orderBy(desc(boxCronjobExecution.createdAt), desc(boxCronjobExecution.id))
    .limit(limit);
  const runIds = executions.flatMap((execution) => (execution.runId ? [execution.runId] : []));
  const costs = await ledgerCostOfRuns({ db: deps.db, boxId, runIds });
  return executions.map((execution) =>
    toCronjobExecutionDto(execution, execution.runId ? costs.get(execution.runId) : undefined),
  );
}

/** Queues one run of the cronjob outside its schedule; it is recorded like any tick. */
export async function runCronjobNow({
  deps,
  boxId,
  cronjobId,
}: {
  deps: ApiDeps;
  boxId: string;
  cronjobId: string;
}) {
  await getCronjob(deps, boxId, cronjobId);
  await enqueueOrFail({ deps, job: "triggerCronjob", data: { cronjobId }, whatToDo: "try again shortly" });
}
