import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { type BoxAgentResponse, BoxBadAnswerError, BoxUnreachableError } from "../box-agent/box-agent-client";
import { getBoxRunRow } from "../run/get-run";
import { waitForRunEnd } from "../run/run-stream";
import { requireRunningBox, startChatRun } from "../run/start-chat-run";

type BoxRow = typeof box.$inferSelect;

/**
 * How long past a run's own limit the blocking send still waits: box-agent aborts the run at its
 * limit, and the end then travels through the follower; this is never what cuts a run short.
 */
const SEND_WAIT_GRACE_MS = 2 * 60_000;

/** box-agent's refusals and a box's bad answers, as the user API's errors. */
async function answerOf<T>(call: Promise<BoxAgentResponse<T>>): Promise<T> {
  try {
    const response = await call;
    if (!response.ok) {
      throw new ServiceError(
        response.status === 400 ? "BAD_REQUEST" : "SERVICE_UNAVAILABLE",
        `box-agent: ${response.message}`,
      );
    }
    return response.body;
  } catch (err) {
    if (err instanceof BoxBadAnswerError) {
      throw new ServiceError("BAD_GATEWAY", err.message);
    }
    if (err instanceof BoxUnreachableError) {
      throw new ServiceError("SERVICE_UNAVAILABLE", err.message);
    }
    throw err;
  }
}

/** The box's Claude sessions and their recent runs, as box-agent records them. */
export async function listBoxSessions({ deps, target }: { deps: ApiDeps; target: BoxRow }) {
  requireRunningBox(target);
  return answerOf(
    deps.boxAgent.call(target, "sessions.list", { limit: 100, runs: 10 }, { timeoutMs: 20_000 }),
  );
}

/**
 * The owner talking to the box and waiting for the answer: a chat run (`POST …/runs`) in a
 * `session` context, resumed on every message with the same context id, answered when it ends.
 * Nothing here is shorter than the run's own limit; a caller who leaves (`signal`) stops waiting,
 * not the run.
 */
export async function sendBoxSessionMessage({
  deps,
  target,
  contextId,
  message,
  signal,
}: {
  deps: ApiDeps;
  target: BoxRow;
  contextId: string;
  message: string;
  signal?: AbortSignal;
}) {
  const { runId } = await startChatRun({ deps, target, contextId, message });
  const started = await getBoxRunRow({ db: deps.db, boxId: target.id, runId });
  const run = await waitForRunEnd({
    deps,
    boxId: target.id,
    runId,
    timeoutMs: started.maxDurationMs + SEND_WAIT_GRACE_MS,
    signal,
  });
  return {
    runId: run.id,
    sessionId: run.sessionId,
    status: run.status,
    result: run.result,
    costUsd: run.costUsd,
    durationMs: run.durationMs ?? 0,
    error: run.error,
    note:
      run.status === "queued" || run.status === "running"
        ? `the run is still ${run.status}; follow it at GET /rpc/box/${target.id}/runs/${run.id}`
        : null,
  };
}
