import type { InboundEmail } from "@vps-claude/contract/box-agent";
import type { Logger } from "@vps-claude/logger";
import { type AgentRunner, ShuttingDownError } from "../agent/runner";
import type { Inbox } from "./inbox";

export interface ReceiveInboundEmailOptions {
  inbox: Inbox;
  runner: Pick<AgentRunner, "acceptingRuns">;
  logger: Logger;
  email: InboundEmail;
}

/**
 * Stores a delivered email in the inbox; a repeated delivery of a stored id changes nothing. No run
 * starts here: the platform dispatches the email's run (`POST /runs` with `task: {kind: "email"}`)
 * once the email is stored, and that run reads it from the inbox.
 */
export function receiveInboundEmail({ inbox, runner, logger, email }: ReceiveInboundEmailOptions): {
  duplicate: boolean;
} {
  // A stopping daemon stores nothing: the platform retries the delivery, then dispatches the run.
  if (!runner.acceptingRuns) {
    throw new ShuttingDownError();
  }
  const log = logger.child({ emailId: email.id, threadId: email.threadId });
  const { duplicate } = inbox.save(email);
  if (duplicate) {
    log.info("email delivered again; already stored, nothing to do");
  } else {
    log.info({ untrustedSender: email.untrustedSender }, "email stored in the inbox");
  }
  return { duplicate };
}
