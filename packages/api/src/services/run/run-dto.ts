import type { Run, RunEvent } from "@vps-claude/contract";
import type { boxRunEvent } from "@vps-claude/db";
import { type RunCost, withLedgerCost } from "./run-cost";
import type { RunRow } from "./run-origin";

type RunEventRow = typeof boxRunEvent.$inferSelect;

/**
 * A run as the owner sees it. Everything but `dispatch` and `userId`: the dispatch may carry MCP
 * server headers with tokens, and is the platform's business only. Cost and tokens are the ledger's
 * (`ledgerCostOfRuns`) when it has entries of the run, else what box-agent reported.
 */
export function toRunDto(stored: RunRow, ledgerCost?: RunCost): Run {
  const row = withLedgerCost(stored, ledgerCost);
  return {
    id: row.id,
    boxId: row.boxId,
    trigger: row.trigger,
    contextType: row.contextType,
    contextId: row.contextId,
    sessionId: row.sessionId,
    status: row.status,
    prompt: row.prompt,
    result: row.result,
    error: row.error,
    model: row.model,
    maxDurationMs: row.maxDurationMs,
    createdAt: row.createdAt,
    dispatchedAt: row.dispatchedAt,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    durationMs: row.durationMs,
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cacheReadTokens: row.cacheReadTokens,
    cacheWriteTokens: row.cacheWriteTokens,
    costUsd: row.costUsd,
    emailId: row.emailId,
    cronjobId: row.cronjobId,
    cronjobExecutionId: row.cronjobExecutionId,
    retryOf: row.retryOf,
  };
}

/**
 * A stored transcript event as box-agent emitted it. The row's own columns (seq, type, at) win over
 * whatever `data` repeats of them, so the event's identity is the one the primary key guarantees.
 */
export function toRunEvent(row: RunEventRow): RunEvent {
  return { ...row.data, seq: row.seq, type: row.type, at: row.at.toISOString() } as RunEvent;
}
