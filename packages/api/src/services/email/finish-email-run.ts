import type { RunRow, Tx } from "../run/run-origin";

/**
 * Ends the inbound email a run answered, in the transaction that ended the run: `processed` when it
 * completed, `failed` with the reason otherwise.
 */
export async function finishEmailRun(_input: { db: Tx; run: RunRow }): Promise<void> {
  // Filled in by the email work (issue 9); called by completeRun for runs with an emailId.
}
