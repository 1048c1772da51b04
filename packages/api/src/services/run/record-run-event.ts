import type { RunEvent, RunStatus } from "@vps-claude/contract/box-agent";
import { boxRun, boxRunEvent } from "@vps-claude/db";
import { eq, sql } from "drizzle-orm";
import type { ApiDeps } from "../../deps";
import type { RunRow } from "./run-origin";
import { toStorableJson, toStorableText } from "./storable";

/** How far a box's clock is believed: an event time outside this window of the platform's is replaced by now. */
const BOX_CLOCK_WINDOW_MS = 24 * 3600_000;

/** When the box says the event happened, if that is a believable time; else when it reached the platform. */
function eventTime(at: string, now: Date): Date {
  const time = new Date(at);
  return Number.isFinite(time.getTime()) && Math.abs(time.getTime() - now.getTime()) <= BOX_CLOCK_WINDOW_MS
    ? time
    : now;
}

/**
 * Stores one transcript event and moves the run on: `last_event_seq` (where a reconnect resumes) in
 * the same statement, so the two never disagree; a `status: running` event marks the run started
 * (with the box's start time, never before the run was queued) and records Claude's session id.
 * A repeated event (a replay after a reconnect) is stored once. Answers the run's status after, so
 * the follower sees a run ended meanwhile by someone else (cancel, the reconciler).
 */
export async function recordRunEvent({
  deps,
  run,
  event,
}: {
  deps: ApiDeps;
  run: Pick<RunRow, "id" | "createdAt">;
  event: RunEvent;
}): Promise<{ status: RunStatus }> {
  const at = eventTime(event.at, new Date());
  const started = event.type === "status" && event.status === "running";
  const sessionId = event.type === "status" && event.sessionId ? toStorableText(event.sessionId) : null;
  const startedAt = new Date(Math.max(at.getTime(), run.createdAt.getTime()));
  // One statement, so one round trip and atomic: the event and `last_event_seq` never disagree.
  // This runs for every event of every run, between box-agent emitting it and a subscriber seeing it.
  const stored = deps.db.$with("stored", {}).as(
    deps.db
      .insert(boxRunEvent)
      .values({
        runId: run.id,
        seq: event.seq,
        type: event.type,
        data: toStorableJson(event) as Record<string, unknown>,
        at,
      })
      .onConflictDoNothing()
      .getSQL(),
  );
  const [row] = await deps.db
    .with(stored)
    .update(boxRun)
    .set({
      lastEventSeq: sql`greatest(${boxRun.lastEventSeq}, ${event.seq})`,
      ...(started
        ? {
            status: sql`case when ${boxRun.status} = 'queued' then 'running'::run_status else ${boxRun.status} end`,
            startedAt: sql`coalesce(${boxRun.startedAt}, ${startedAt.toISOString()}::timestamptz)`,
          }
        : {}),
      ...(sessionId ? { sessionId } : {}),
    })
    .where(eq(boxRun.id, run.id))
    .returning({ status: boxRun.status });
  if (!row) {
    throw new Error(`run ${run.id} is gone (its box was deleted?) while its events were being stored`);
  }
  return row;
}
