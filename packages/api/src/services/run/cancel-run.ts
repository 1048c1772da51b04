import type { Run } from "@vps-claude/contract";
import { isTerminalRunStatus } from "@vps-claude/contract/box-agent";
import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { BoxBadAnswerError, describeBox } from "../box-agent/box-agent-client";
import { completeRun } from "./complete-run";
import { getBoxRunRow } from "./get-run";
import { toRunDto } from "./run-dto";
import type { RunRow } from "./run-origin";
import { waitForRunEnd } from "./run-stream";

type BoxRow = typeof box.$inferSelect;

/** Long enough to wake a sleeping sprite and reach its box-agent. */
const CANCEL_CALL_TIMEOUT_MS = 60_000;
/**
 * How long the answer waits for the run to be recorded `cancelled` once box-agent took the cancel
 * (its `done` travels through the follower); after that the run is answered as it is, still ending.
 */
const CANCEL_SETTLE_MS = 15_000;

/** What box-agent made of the cancel: it took it, it never had the run, or it could not be asked. */
type BoxCancel = "accepted" | "unknown-run" | { unreachable: string };

async function askBoxToCancel(deps: ApiDeps, target: BoxRow, runId: string): Promise<BoxCancel> {
  try {
    const response = await deps.boxAgent.call(
      target,
      "runs.cancel",
      { id: runId },
      { timeoutMs: CANCEL_CALL_TIMEOUT_MS },
    );
    if (response.ok) {
      return "accepted";
    }
    if (response.status === 404) {
      return "unknown-run";
    }
    return { unreachable: `box-agent answered HTTP ${response.status}: ${response.message}` };
  } catch (err) {
    if (err instanceof BoxBadAnswerError) {
      throw new ServiceError("BAD_GATEWAY", err.message);
    }
    return { unreachable: err instanceof Error ? err.message : String(err) };
  }
}

/** Ends on the platform a run the box never had (or cannot be asked about while it was never handed over). */
async function cancelOnPlatform(deps: ApiDeps, row: RunRow, why: string): Promise<void> {
  await completeRun({ deps, runId: row.id, end: { status: "cancelled", error: why } });
}

/**
 * Cancels a queued or running run: box-agent aborts it (or drops it from its queue) and its end comes
 * back through the follower as any end does. A run the box never received is ended `cancelled` here,
 * through the one way runs end. A finished run is answered as it is. Answers the run after, usually
 * already `cancelled`.
 */
export async function cancelRun({
  deps,
  target,
  runId,
}: {
  deps: ApiDeps;
  target: BoxRow;
  runId: string;
}): Promise<Run> {
  const row = await getBoxRunRow({ db: deps.db, boxId: target.id, runId });
  if (isTerminalRunStatus(row.status)) {
    return toRunDto(row);
  }
  const neverHandedOver = row.dispatchedAt === null;
  if (neverHandedOver && target.status !== "running") {
    await cancelOnPlatform(deps, row, "cancelled by the owner before the box took it");
  } else {
    // Even an undispatched run is cancelled on the box first: its dispatch may be on the way.
    const outcome = await askBoxToCancel(deps, target, runId);
    if (outcome === "unknown-run" || (typeof outcome === "object" && neverHandedOver)) {
      await cancelOnPlatform(deps, row, "cancelled by the owner before the box took it");
    } else if (typeof outcome === "object") {
      throw new ServiceError(
        "SERVICE_UNAVAILABLE",
        `could not cancel run '${runId}': ${describeBox(target)} is unreachable (${outcome.unreachable}). Try again; a run the box never finishes ends interrupted at its deadline`,
      );
    }
  }
  return waitForRunEnd({ deps, boxId: target.id, runId, timeoutMs: CANCEL_SETTLE_MS });
}
