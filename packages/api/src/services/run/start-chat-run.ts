import { randomBytes } from "node:crypto";
import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { startRun } from "./start-run";

type BoxRow = typeof box.$inferSelect;

/** A run is dispatched to box-agent, so the box must be up to take it; anything else is the owner's to fix. */
export function requireRunningBox(target: BoxRow): void {
  if (target.status !== "running") {
    throw new ServiceError(
      "CONFLICT",
      `box '${target.name}' is ${target.status}: runs can start once it is running${
        target.status === "error" ? " (redeploy it first)" : ""
      }`,
    );
  }
}

/** A chat context of its own for a message that names none: `chat-` and 16 random hex digits. */
export const newChatContextId = () => `chat-${randomBytes(8).toString("hex")}`;

/**
 * The owner's message to Claude as a run in a `session` context: the context's Claude session is
 * continued, so every message with the same context id is one conversation. Answers at once.
 */
export async function startChatRun({
  deps,
  target,
  contextId,
  message,
}: {
  deps: ApiDeps;
  target: BoxRow;
  contextId?: string;
  message: string;
}): Promise<{ runId: string; contextId: string }> {
  requireRunningBox(target);
  const context = contextId ?? newChatContextId();
  const { runId } = await startRun({
    deps,
    target,
    trigger: "chat",
    contextType: "session",
    contextId: context,
    task: { kind: "message", message },
    prompt: message,
  });
  return { runId, contextId: context };
}
