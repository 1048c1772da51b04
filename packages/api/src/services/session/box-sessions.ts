import type { box } from "@vps-claude/db";
import type { ApiDeps } from "../../deps";
import { ServiceError } from "../../errors";
import { BoxUnreachableError } from "../box-agent/box-agent-client";

type BoxRow = typeof box.$inferSelect;

function requireRunning(target: BoxRow) {
  if (target.status !== "running") {
    throw new ServiceError(
      "CONFLICT",
      `the box is ${target.status}; sessions are available once it is running`,
    );
  }
}

async function callAgent(deps: ApiDeps, target: BoxRow, request: Parameters<ApiDeps["boxAgent"]["call"]>[1]) {
  try {
    const response = await deps.boxAgent.call(target, request);
    if (response.status >= 400) {
      const message =
        (response.body as { message?: string } | undefined)?.message ?? `HTTP ${response.status}`;
      throw new ServiceError(
        response.status === 400 ? "BAD_REQUEST" : "SERVICE_UNAVAILABLE",
        `box-agent: ${message}`,
      );
    }
    return response.body;
  } catch (err) {
    if (err instanceof BoxUnreachableError) {
      throw new ServiceError("SERVICE_UNAVAILABLE", `the box did not answer: ${err.message}`);
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
    timeoutMs: 10 * 60_000,
  });
}
