import type { RunTask } from "@vps-claude/contract/box-agent";
import type { Inbox } from "../email/inbox";
import { inboundEmailPrompt } from "../email/render";

export class TaskPromptError extends Error {
  override name = "TaskPromptError";
}

/** Tells Claude this turn comes from a schedule, not from a person waiting for an answer. */
export function cronPrompt(input: { cronjobId: string; name: string; prompt: string }, at: string): string {
  const label = input.name === "" ? input.cronjobId : `"${input.name}" (${input.cronjobId})`;
  return `Scheduled task ${label} triggered at ${at}. No one is waiting for a reply in this conversation; carry out the task:\n\n${input.prompt}`;
}

function isoOrAsGiven(value: string): string {
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}

/** How a queued run is listed before it starts (an email's prompt is rendered from the inbox then). */
export function taskSummary(task: RunTask): string {
  switch (task.kind) {
    case "message":
      return task.message;
    case "email":
      return `email ${task.emailId}`;
    case "cron":
      return cronPrompt(task, isoOrAsGiven(task.scheduledFor));
  }
}

/**
 * What Claude is asked. An email task reads the email the platform delivered to the inbox first
 * (`POST /email/receive`), so its untrusted content is wrapped here, in the box, like `email_read` does.
 */
export function taskPrompt(task: RunTask, inbox: Pick<Inbox, "get">): string {
  if (task.kind !== "email") {
    return taskSummary(task);
  }
  const stored = inbox.get(task.emailId);
  if (stored === undefined) {
    throw new TaskPromptError(
      `email ${task.emailId} is not in the inbox: deliver it (POST /email/receive) before dispatching its run`,
    );
  }
  return inboundEmailPrompt(stored.email);
}
