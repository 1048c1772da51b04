import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { type BoxAgentResponse, BoxBadAnswerError, BoxUnreachableError } from "../box-agent/box-agent-client";

type BoxRow = typeof box.$inferSelect;

function requireRunning(target: BoxRow) {
  if (target.status !== "running") {
    throw new ServiceError(
      "CONFLICT",
      `the box is ${target.status}; sessions are available once it is running`,
    );
  }
}

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
  requireRunning(target);
  return answerOf(
    deps.boxAgent.call(target, "sessions.list", { limit: 100, runs: 10 }, { timeoutMs: 20_000 }),
  );
}

/**
 * The owner talking to the box: the message runs in a `session` context, resumed on every message
 * with the same context id. Answers when Claude's run ends (bounded by box-agent's run timeout).
 */
export async function sendBoxSessionMessage({
  deps,
  target,
  contextId,
  message,
}: {
  deps: ApiDeps;
  target: BoxRow;
  contextId: string;
  message: string;
}) {
  requireRunning(target);
  return answerOf(
    deps.boxAgent.call(
      target,
      "sessions.send",
      { contextType: "session", contextId, message },
      { timeoutMs: 10 * 60_000 },
    ),
  );
}
