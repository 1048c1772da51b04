import { box, boxCronjob, boxCronjobExecution, boxRun, preparedPerDatabase } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { and, desc, eq, gt, inArray, isNull, ne, sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { startRun } from "../run/start-run";
import { STARTING_EXECUTION_STATUSES } from "./execution-status";

type ExecutionStatus = (typeof boxCronjobExecution.$inferSelect)["status"];
type Execution = typeof boxCronjobExecution.$inferSelect;
type CronjobWithBox = { cronjob: typeof boxCronjob.$inferSelect; box: typeof box.$inferSelect };

/*
 * A minute's ticks arrive as a herd (10,000 schedules put ~170 on each minute boundary) and, with
 * Postgres on the same cores, each tick's share of the CPU decides how late the last of them fires.
 * So the statements every tick runs are prepared once, not built by drizzle on each call.
 */
const loadTick = preparedPerDatabase((db) =>
  db
    .select({ cronjob: boxCronjob, box })
    .from(boxCronjob)
    .innerJoin(box, eq(box.id, boxCronjob.boxId))
    .where(eq(boxCronjob.id, sql.placeholder("cronjobId")))
    .limit(1)
    .prepare("cron_tick_load"),
);

/** A prepared statement's parameter where drizzle's types take only values (`set`). */
const param = (name: string) => sql`${sql.placeholder(name)}`;

/** Only while the tick is still starting: an execution already ended keeps its outcome. */
const tickStillStarting = and(
  eq(boxCronjobExecution.id, sql.placeholder("executionId")),
  inArray(boxCronjobExecution.status, STARTING_EXECUTION_STATUSES),
);

const markWakingBox = preparedPerDatabase((db) =>
  db
    .update(boxCronjobExecution)
    .set({ status: "waking_box", startedAt: param("startedAt") })
    .where(tickStillStarting)
    .prepare("cron_tick_waking_box"),
);

const markRunningQuery = preparedPerDatabase((db) =>
  db
    .update(boxCronjobExecution)
    .set({ status: "running", runId: param("runId") })
    .where(tickStillStarting)
    .prepare("cron_tick_running"),
);

const endTick = preparedPerDatabase((db) =>
  db
    .update(boxCronjobExecution)
    .set({
      status: param("status"),
      completedAt: param("completedAt"),
      durationMs: param("durationMs"),
      errorMessage: param("errorMessage"),
    })
    .where(tickStillStarting)
    .returning({ status: boxCronjobExecution.status })
    .prepare("cron_tick_end"),
);

const setLastRunAt = preparedPerDatabase((db) =>
  db
    .update(boxCronjob)
    .set({ lastRunAt: param("lastRunAt") })
    .where(eq(boxCronjob.id, sql.placeholder("cronjobId")))
    .prepare("cron_tick_last_run"),
);

/** Namespace of the per-cronjob tick lock (two-int advisory keys: this, then a hash of the cronjob id). */
const TICK_LOCK = 7_311_301;

export interface TriggerCronjobResult {
  executionId?: string;
  runId?: string;
  status: ExecutionStatus | "duplicate" | "gone";
}

/**
 * One tick: record it first (so every tick leaves a trace, even one that cannot run), decide whether
 * it runs (disabled → skipped, box down → failed, previous run still working and overlap `skip` →
 * skipped), then hand its run to the runs pipeline and return. The tick never waits on the box: the
 * run's follower wakes it with its dispatch (retrying until the dispatch deadline), and ends this
 * execution through `finishCronExecution`. A tick that waited for a sleeping box held a worker slot
 * for seconds while the rest of a minute's herd queued behind it. The tick's timestamp is unique per
 * cronjob, so a re-delivered tick runs once.
 */
export async function triggerCronjob({
  deps,
  cronjobId,
  scheduledFor,
}: {
  deps: ApiDeps;
  cronjobId: string;
  scheduledFor: Date;
}): Promise<TriggerCronjobResult> {
  const [row] = await loadTick(deps.db).execute({ cronjobId });
  if (!row) {
    return { status: "gone" };
  }
  const opened = await openTick(deps, row, scheduledFor);
  if (!opened) {
    return { status: "duplicate" };
  }
  const { execution, stillWorking } = opened;
  const end = (status: "failed" | "skipped", errorMessage: string, startedAt?: Date) =>
    endTickBeforeRun(deps, execution, { status, errorMessage, startedAt });

  if (!row.cronjob.enabled) {
    // Nothing failed: the owner switched it off. Recorded, so the history shows the tick came.
    return end("skipped", "cronjob is disabled");
  }
  if (row.box.status !== "running") {
    return end("failed", `box is ${row.box.status}, not running`);
  }
  if (stillWorking && row.cronjob.overlap === "skip") {
    return end("skipped", stillWorking);
  }
  const startedAt = new Date();
  try {
    // Brief now: the box is woken by the run's follower, and the run's own status shows when it took the run.
    await markWakingBox(deps.db).execute({ executionId: execution.id, startedAt });
    const runId = await startTickRun(deps, row, execution);
    return { executionId: execution.id, runId, status: "running" };
  } catch (err) {
    // startRun may have recorded the run before failing to queue its follower: then the tick did
    // start it, and the runs reconciler takes it from there.
    const runId = await linkRecordedRun(deps, execution).catch(() => undefined);
    if (runId) {
      deps.logger.warn({ err, executionId: execution.id, runId }, "cron tick started its run with an error");
      return { executionId: execution.id, runId, status: "running" };
    }
    return end("failed", err instanceof Error ? err.message : String(err), startedAt);
  }
}

/**
 * Records the tick `pending` and, under a per-cronjob lock so two ticks at once cannot both miss each
 * other, says what of the cronjob is still working: a run not yet ended, or an earlier tick still
 * starting one. Undefined when this tick was recorded before (a re-delivery).
 */
async function openTick(
  deps: ApiDeps,
  row: CronjobWithBox,
  scheduledFor: Date,
): Promise<{ execution: Execution; stillWorking?: string } | undefined> {
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${TICK_LOCK}, hashtext(${row.cronjob.id}))`);
    const [execution] = await tx
      .insert(boxCronjobExecution)
      .values({
        id: newId("cronjobExecution"),
        cronjobId: row.cronjob.id,
        boxId: row.box.id,
        scheduledFor,
        status: "pending",
      })
      .onConflictDoNothing()
      .returning();
    if (!execution) {
      return undefined;
    }
    const [run] = await tx
      .select({ id: boxRun.id, status: boxRun.status })
      .from(boxRun)
      .where(and(eq(boxRun.cronjobId, row.cronjob.id), inArray(boxRun.status, ["queued", "running"])))
      .orderBy(desc(boxRun.createdAt))
      .limit(1);
    if (run) {
      return { execution, stillWorking: `previous run ${run.id} still ${run.status}` };
    }
    const [starting] = await tx
      .select({ id: boxCronjobExecution.id })
      .from(boxCronjobExecution)
      .where(
        and(
          eq(boxCronjobExecution.cronjobId, row.cronjob.id),
          ne(boxCronjobExecution.id, execution.id),
          inArray(boxCronjobExecution.status, STARTING_EXECUTION_STATUSES),
          // Older than this, it was cut off (the reconciler fails it) and holds nothing up.
          gt(
            boxCronjobExecution.createdAt,
            new Date(Date.now() - deps.config.reconcile.cronTickStuckAfterMs),
          ),
        ),
      )
      .limit(1);
    return starting
      ? { execution, stillWorking: `previous tick ${starting.id} still starting its run` }
      : { execution };
  });
}

/** Hands the tick's run to the runs pipeline and links it to the execution, now `running`. */
async function startTickRun(
  deps: ApiDeps,
  { cronjob, box: target }: CronjobWithBox,
  execution: Execution,
): Promise<string> {
  const { runId } = await startRun({
    deps,
    target,
    trigger: "cron",
    contextType: "cron",
    contextId: cronjob.id,
    session: cronjob.sessionMode,
    task: {
      kind: "cron",
      cronjobId: cronjob.id,
      name: cronjob.name,
      prompt: cronjob.prompt,
      scheduledFor: execution.scheduledFor.toISOString(),
    },
    prompt: cronjob.prompt,
    model: cronjob.model ?? undefined,
    maxDurationMs: cronjob.maxDurationMinutes == null ? undefined : cronjob.maxDurationMinutes * 60_000,
    links: { cronjobId: cronjob.id, cronjobExecutionId: execution.id },
  });
  await markRunning(deps, execution.id, runId);
  return runId;
}

/** A run that ended before this was already recorded by finishCronExecution: its outcome stays. */
async function markRunning(deps: Pick<ApiDeps, "db">, executionId: string, runId: string) {
  await markRunningQuery(deps.db).execute({ executionId, runId });
}

/** The run recorded for this tick, if any, linked to it. */
async function linkRecordedRun(deps: Pick<ApiDeps, "db">, execution: Execution): Promise<string | undefined> {
  const [run] = await deps.db
    .select({ id: boxRun.id })
    .from(boxRun)
    .where(and(eq(boxRun.cronjobExecutionId, execution.id), isNull(boxRun.retryOf)))
    .limit(1);
  if (run) {
    await markRunning(deps, execution.id, run.id);
  }
  return run?.id;
}

/** Ends a tick that started no run; never overwrites an execution that has already ended. */
async function endTickBeforeRun(
  deps: Pick<ApiDeps, "db">,
  execution: Execution,
  {
    status,
    errorMessage,
    startedAt,
  }: { status: "failed" | "skipped"; errorMessage: string; startedAt?: Date },
): Promise<TriggerCronjobResult> {
  const completedAt = new Date();
  const [ended] = await endTick(deps.db).execute({
    executionId: execution.id,
    status,
    completedAt,
    durationMs: startedAt ? completedAt.getTime() - startedAt.getTime() : null,
    errorMessage: errorMessage.slice(0, 4_000),
  });
  // A skipped tick did not run, so the job's last run stays the one before.
  if (ended && status === "failed") {
    await setLastRunAt(deps.db).execute({ cronjobId: execution.cronjobId, lastRunAt: completedAt });
  }
  return { executionId: execution.id, status: ended?.status ?? status };
}
