import type { InboundEmail } from "@vps-claude/contract/box-agent";
import type { Logger } from "@vps-claude/logger";
import { type AgentRunner, ShuttingDownError } from "../agent/runner";
import type { Inbox } from "./inbox";
import { inboundEmailPrompt } from "./render";

export type EmailRunner = Pick<AgentRunner, "runWithSession" | "acceptingRuns">;

export interface ReceiveInboundEmailOptions {
  inbox: Inbox;
  runner: EmailRunner;
  logger: Logger;
  email: InboundEmail;
}

/**
 * Stores a delivered email and starts Claude on it in the background. The platform's delivery call
 * gives up after 20 s while a run can take minutes; all it needs to know is that the email is stored.
 * A repeated delivery of a stored id starts nothing. The run goes through the thread's queue, so a
 * reply arriving while Claude still works on the previous email continues the same session after it.
 */
export function receiveInboundEmail({ inbox, runner, logger, email }: ReceiveInboundEmailOptions): {
  duplicate: boolean;
} {
  // Refused before storing: a stored email is a duplicate on retry, so it would never get its run.
  if (!runner.acceptingRuns) {
    throw new ShuttingDownError();
  }
  const log = logger.child({ emailId: email.id, threadId: email.threadId });
  const { duplicate } = inbox.save(email);
  if (duplicate) {
    log.info("email delivered again; already stored, nothing to do");
    return { duplicate };
  }
  log.info({ untrustedSender: email.untrustedSender }, "email stored; starting its run");
  runner
    .runWithSession({ contextType: "email", contextId: email.threadId, prompt: inboundEmailPrompt(email) })
    .then(
      (outcome) => {
        if (outcome.status === "failed") {
          log.warn({ runId: outcome.runId, error: outcome.error }, "the run for an email failed");
        } else {
          log.info({ runId: outcome.runId, sessionId: outcome.sessionId }, "the run for an email completed");
        }
      },
      (error: unknown) => {
        log.error({ err: error }, "the run for an email could not run; the email stays unread in the inbox");
      },
    );
  return { duplicate: false };
}
