import { boxEmail } from "@vps-claude/db";
import { PermanentJobError } from "@vps-claude/queue";
import { eq } from "drizzle-orm";
import type { ApiDeps } from "../../deps";

/** One attempt of an email job, as the worker hands it over. */
export interface EmailJobAttempt {
  deps: ApiDeps;
  emailId: string;
  /** This attempt's number, from 1. */
  attempt: number;
  isFinalAttempt: boolean;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs one attempt of an email job and leaves the email saying how it went: when no retry follows
 * (the last attempt, or a PermanentJobError) it is `failed` with the reason, and stays visible so;
 * before that it shows why this attempt failed. The error is thrown on, so the queue retries or stops.
 */
export async function recordEmailAttempt<T>(
  {
    deps,
    emailId,
    attempt,
    isFinalAttempt,
    gaveUp,
  }: EmailJobAttempt & {
    /** How the final reason starts: "not sent", "not delivered". */
    gaveUp: string;
  },
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const update =
      err instanceof PermanentJobError
        ? { status: "failed" as const, errorMessage: err.message }
        : isFinalAttempt
          ? {
              status: "failed" as const,
              errorMessage: `${gaveUp} after ${attempt} attempts: ${messageOf(err)}`,
            }
          : { errorMessage: `${messageOf(err)} (retrying)` };
    await deps.db.update(boxEmail).set(update).where(eq(boxEmail.id, emailId));
    throw err;
  }
}
