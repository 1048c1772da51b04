import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import {
  boxAgentAnswers,
  RUN_ANSWER_MAX_BYTES,
  SESSION_LIST_MAX_BYTES,
} from "../box-agent/box-agent-answers";
import { type BoxAgentRequest, BoxBadAnswerError, BoxUnreachableError } from "../box-agent/box-agent-client";

type BoxRow = typeof box.$inferSelect;

function requireRunning(target: BoxRow) {
  if (target.status !== "running") {
    throw new ServiceError(
      "CONFLICT",
      `the box is ${target.status}; sessions are available once it is running`,
    );
  }
}

async function callAgent<T>(deps: ApiDeps, target: BoxRow, request: BoxAgentRequest<T>): Promise<T> {
  try {
    const response = await deps.boxAgent.call(target, request);
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
  return callAgent(deps, target, {
    method: "GET",
    path: "/sessions/list?limit=100&runs=10",
    schema: boxAgentAnswers.sessionList,
    maxBytes: SESSION_LIST_MAX_BYTES,
    timeoutMs: 20_000,
  });
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
  return callAgent(deps, target, {
    method: "POST",
    path: "/sessions/send",
    body: { contextType: "session", contextId, message },
    schema: boxAgentAnswers.runOutcome,
    maxBytes: RUN_ANSWER_MAX_BYTES,
    timeoutMs: 10 * 60_000,
  });
}
