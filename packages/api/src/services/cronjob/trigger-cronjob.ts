import { box, boxCronjob, boxCronjobExecution, boxRun, preparedPerDatabase } from "@vps-claude/db";
import { newId } from "@vps-claude/shared";
import { and, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import { startRun } from "../run/start-run";
import { STARTING_EXECUTION_STATUSES } from "./execution-status";

type ExecutionStatus = (typeof boxCronjobExecution.$inferSelect)["status"];
type Execution = typeof boxCronjobExecution.$inferSelect;
type CronjobWithBox = { cronjob: typeof boxCronjob.$inferSelect; box: typeof box.$inferSelect };

/*
 * A minute's ticks arrive as a herd (10,000 schedules put ~170 on each minute boundary), and with
 * Postgres on the same cores each tick's CPU and commits decide how late the last of the herd fires.
 * So a tick commits once before its run is handed over, and the statements every tick runs are
 * prepared once, not built by drizzle on each call.
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

/** A tick that cannot run, recorded already ended. */
const endedTickValues = {
  id: sql.placeholder("id"),
  cronjobId: sql.placeholder("cronjobId"),
  boxId: sql.placeholder("boxId"),
  scheduledFor: sql.placeholder("scheduledFor"),
  status: sql.placeholder("status"),
  completedAt: sql.placeholder("completedAt"),
  errorMessage: sql.placeholder("errorMessage"),
};

const recordSkippedTick = preparedPerDatabase((db) =>
  db
    .insert(boxCronjobExecution)
    .values(endedTickValues)
    .onConflictDoNothing()
    .returning({ id: boxCronjobExecution.id })
    .prepare("cron_tick_record_skipped"),
);

/** A failed tick is the cronjob's last run: both in one statement, so one commit. */
const recordFailedTick = preparedPerDatabase((db) => {
  const recorded = db
    .$with("recorded", { id: boxCronjobExecution.id })
    .as(
      db
        .insert(boxCronjobExecution)
        .values(endedTickValues)
        .onConflictDoNothing()
        .returning({ id: boxCronjobExecution.id })
        .getSQL(),
    );
  return db
    .with(recorded)
    .update(boxCronjob)
    .set({ lastRunAt: param("completedAt") })
    .where(and(eq(boxCronjob.id, sql.placeholder("cronjobId")), sql`exists (select 1 from ${recorded})`))
    .returning({ id: sql<string>`(select ${recorded.id} from ${recorded})` })
    .prepare("cron_tick_record_failed");
});

/** Only while the tick is still starting: an execution already ended keeps its outcome. */
const tickStillStarting = and(
  eq(boxCronjobExecution.id, sql.placeholder("executionId")),
  inArray(boxCronjobExecution.status, STARTING_EXECUTION_STATUSES),
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
 * One tick: decide whether it runs (disabled → skipped, box down → failed, previous run still
 * working and overlap `skip` → skipped), record it with that outcome (so every tick leaves a trace,
 * even one that cannot run), then hand its run to the runs pipeline and return. The tick never waits
 * on the box: the run's follower wakes it with its dispatch (retrying until the dispatch deadline),
 * and ends this execution through `finishCronExecution`. A tick that waited for a sleeping box held
 * a worker slot for seconds while the rest of a minute's herd queued behind it. The tick's timestamp
 * is unique per cronjob, so a re-delivered tick runs once.
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
  if (!row.cronjob.enabled) {
    // Nothing failed: the owner switched it off. Recorded, so the history shows the tick came.
    return recordEndedTick(deps, row, scheduledFor, "skipped", "cronjob is disabled");
  }
  if (row.box.status !== "running") {
    return recordEndedTick(deps, row, scheduledFor, "failed", `box is ${row.box.status}, not running`);
  }
  const execution = await openTick(deps, row, scheduledFor);
  if (!execution) {
    return { status: "duplicate" };
  }
  if (execution.status === "skipped") {
    return { executionId: execution.id, status: "skipped" };
  }
  try {
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
    return endTickBeforeRun(deps, execution, {
      status: "failed",
      errorMessage: err instanceof Error ? err.message : String(err),
      startedAt: execution.startedAt ?? undefined,
    });
  }
}

/** Records a tick that does not run as ended; a re-delivered tick is recorded once. */
async function recordEndedTick(
  deps: Pick<ApiDeps, "db">,
  { cronjob, box: target }: CronjobWithBox,
  scheduledFor: Date,
  status: "failed" | "skipped",
  errorMessage: string,
): Promise<TriggerCronjobResult> {
  const values = {
    id: newId("cronjobExecution"),
    cronjobId: cronjob.id,
    boxId: target.id,
    scheduledFor,
    status,
    completedAt: new Date(),
    errorMessage,
  };
  // A skipped tick did not run, so the job's last run stays the one before.
  const [recorded] = await (status === "failed" ? recordFailedTick : recordSkippedTick)(deps.db).execute(
    values,
  );
  return recorded ? { executionId: recorded.id, status } : { status: "duplicate" };
}

/**
 * Records a tick that may run, under a per-cronjob lock so two ticks at once cannot both miss each
 * other: `skipped` when something of the cronjob is still working (a run not yet ended, or an
 * earlier tick still starting one) and overlap is `skip`, else `waking_box`, briefly: the box is
 * woken by the run's follower, and the run's own status shows when it took the run. Undefined when
 * this tick was recorded before (a re-delivery).
 */
async function openTick(
  deps: ApiDeps,
  row: CronjobWithBox,
  scheduledFor: Date,
): Promise<Execution | undefined> {
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${TICK_LOCK}, hashtext(${row.cronjob.id}))`);
    const stillWorking = row.cronjob.overlap === "skip" ? await whatStillWorks(tx, deps, row) : undefined;
    const now = new Date();
    const [execution] = await tx
      .insert(boxCronjobExecution)
      .values({
        id: newId("cronjobExecution"),
        cronjobId: row.cronjob.id,
        boxId: row.box.id,
        scheduledFor,
        ...(stillWorking
          ? { status: "skipped", completedAt: now, errorMessage: stillWorking }
          : { status: "waking_box", startedAt: now }),
      })
      .onConflictDoNothing()
      .returning();
    return execution;
  });
}

type Transaction = Parameters<Parameters<ApiDeps["db"]["transaction"]>[0]>[0];

/** What of the cronjob is still working, in words, if anything: a run not yet ended, or a tick still starting one. */
async function whatStillWorks(
  tx: Transaction,
  deps: Pick<ApiDeps, "config">,
  row: CronjobWithBox,
): Promise<string | undefined> {
  const [run] = await tx
    .select({ id: boxRun.id, status: boxRun.status })
    .from(boxRun)
    .where(and(eq(boxRun.cronjobId, row.cronjob.id), inArray(boxRun.status, ["queued", "running"])))
    .orderBy(desc(boxRun.createdAt))
    .limit(1);
  if (run) {
    return `previous run ${run.id} still ${run.status}`;
  }
  const [starting] = await tx
    .select({ id: boxCronjobExecution.id })
    .from(boxCronjobExecution)
    .where(
      and(
        eq(boxCronjobExecution.cronjobId, row.cronjob.id),
        inArray(boxCronjobExecution.status, STARTING_EXECUTION_STATUSES),
        // Older than this, it was cut off (the reconciler fails it) and holds nothing up.
        gt(boxCronjobExecution.createdAt, new Date(Date.now() - deps.config.reconcile.cronTickStuckAfterMs)),
      ),
    )
    .limit(1);
  return starting ? `previous tick ${starting.id} still starting its run` : undefined;
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
