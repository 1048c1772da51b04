import type { RunEvent } from "@vps-claude/contract/box-agent";
import { anthropicReply, type FakeAnthropic, scriptedClaude } from "@vps-claude/testing";
import { describe, expect, it, vi } from "vitest";
import { qualifiedToolName } from "../src/mcp/tool-names";
import { SessionStore } from "../src/session-store";
import { processesWorkingIn, type TestBox, useClaudeBox } from "./harness";
import { dispatch, doneOf, followEvents, getRun, runRequest, runToEnd } from "./runs";

/**
 * box-agent's run queue over HTTP (`POST /runs`, the event stream, cancel), with the real Agent SDK
 * and Claude Code CLI against a scripted fake Messages API. A prompt with SLOW makes the model hold
 * its answer until the test lets go; TOOLS makes Claude call an MCP tool and then, once the tool
 * answered, hold its last turn the same way.
 */

/** A gate the fake model waits at; `open()` lets every waiting (and later) answer through. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

let hold = gate();

const script = scriptedClaude({
  rules: [
    { when: "TOOLS", reply: anthropicReply.toolUse(qualifiedToolName("cronjob_list"), {}, "Checking.") },
  ],
});

let fake: FakeAnthropic;
let box: TestBox;

useClaudeBox(
  async (conversation) => {
    const held = conversation.hasPendingToolResults() || (conversation.lastUserText() ?? "").includes("SLOW");
    if (held) {
      await hold.opened;
    }
    return script(conversation);
  },
  (env) => {
    ({ fake, box } = env);
    hold = gate();
  },
);

/** Resolves once the fake model received a request of this run (it names itself in `x-vps-run-id`). */
async function modelReached(runId: string): Promise<void> {
  await vi.waitFor(
    () =>
      expect(fake.messageRequests().some((request) => request.headers["x-vps-run-id"] === runId)).toBe(true),
    { timeout: 30_000, interval: 50 },
  );
}

function types(events: RunEvent[]): string[] {
  return events.map((event) => (event.type === "status" ? `status:${event.status}` : event.type));
}

describe("POST /runs and the event stream", { timeout: 180_000 }, () => {
  it("answers 202 at once and streams the run's events live, in order, resumable with Last-Event-ID", async () => {
    const request = runRequest({ message: "TOOLS please" });
    const accepted = await dispatch(box, request);
    expect(accepted).toMatchObject({ runId: request.runId, status: "queued" });

    const stream = await followEvents(box, request.runId);
    // The model holds its last turn: the tool call and its result can only have come live.
    const result = await stream.next((event) => event.type === "tool_result");
    expect(result).toMatchObject({
      type: "tool_result",
      content: "This box has no cronjobs.",
      isError: false,
      truncated: false,
    });
    const running = await getRun(box, request.runId);
    expect(running).toMatchObject({ status: "running", completedAt: null, trigger: "chat" });
    expect(running.lastSeq).toBeGreaterThanOrEqual(result.seq);
    expect(running.startedAt).not.toBeNull();

    hold.open();
    const events = await stream.closed;
    expect(types(events)).toEqual([
      "status:queued",
      "status:running",
      "status:running",
      "text",
      "tool_use",
      "tool_result",
      "text",
      "done",
    ]);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(accepted.events, "the answer carries the run's first event, as the stream sends it").toEqual([
      events[0],
    ]);
    const toolUse = events.find((event) => event.type === "tool_use");
    expect(toolUse).toMatchObject({ name: qualifiedToolName("cronjob_list"), input: {} });
    expect(result.type === "tool_result" && toolUse?.type === "tool_use" ? result.toolUseId : "").toBe(
      toolUse?.type === "tool_use" ? toolUse.toolUseId : "?",
    );
    const end = doneOf(events);
    expect(end).toMatchObject({
      status: "completed",
      result: `${qualifiedToolName("cronjob_list")} answered: This box has no cronjobs.`,
      error: null,
    });
    expect(end.costUsd).toBeGreaterThan(0);
    expect(end.outputTokens).toBeGreaterThan(0);

    const resumed = await followEvents(box, request.runId, 4);
    const later = await resumed.closed;
    expect(later.map((event) => event.seq)).toEqual(events.slice(4).map((event) => event.seq));
    expect(later).toEqual(events.slice(4));

    const atEnd = await followEvents(box, request.runId, events.length);
    expect(await atEnd.closed, "nothing after done").toEqual([]);
  });

  it("takes the same run id again as a duplicate and runs it once", async () => {
    const request = runRequest({ message: "only once" });
    await dispatch(box, request);
    const again = await box.request("/runs", { body: request });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ runId: request.runId, duplicate: true });

    const events = await (await followEvents(box, request.runId)).closed;
    expect(doneOf(events).status).toBe("completed");
    const late = await box.request("/runs", {
      body: { ...request, task: { kind: "message", message: "other" } },
    });
    expect(await late.json()).toEqual({
      runId: request.runId,
      status: "completed",
      duplicate: true,
      events: [],
    });

    expect(events.filter((event) => event.type === "done")).toHaveLength(1);
    const prompts = fake.messageRequests().flatMap((r) => r.conversation.userTexts());
    expect(prompts.filter((text) => text === "only once")).toHaveLength(1);
    expect(prompts).not.toContain("other");
  });

  it("answers 404 for an unknown run, 400 for a bad Last-Event-ID or dispatch", async () => {
    for (const [method, path] of [
      ["GET", "/runs/run_unknown"],
      ["GET", "/runs/run_unknown/events"],
      ["POST", "/runs/run_unknown/cancel"],
    ] as const) {
      const res = await box.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ code: "NOT_FOUND", message: "no run run_unknown on this box" });
    }
    const { runId } = await dispatch(box, runRequest());
    const bad = await box.request(`/runs/${runId}/events`, { headers: { "last-event-id": "x1" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain("Last-Event-ID");

    const noAgent = await box.request("/runs", { body: { ...runRequest(), agent: undefined } });
    expect(noAgent.status).toBe(400);
    expect(((await noAgent.json()) as { message: string }).message).toContain("agent");
    const badId = await box.request("/runs", { body: runRequest({ runId: "../x" }) });
    expect(badId.status).toBe(400);
    await (await followEvents(box, runId)).closed;
  });
});

describe("cancelling a run", { timeout: 180_000 }, () => {
  it("stops a running run's Claude Code process and ends it cancelled", async () => {
    const request = runRequest({ message: "SLOW work" });
    await dispatch(box, request);
    const stream = await followEvents(box, request.runId);
    await modelReached(request.runId);
    expect(processesWorkingIn(box.home).length, "Claude runs in the box's home").toBeGreaterThan(0);

    const res = await box.request(`/runs/${request.runId}/cancel`, { method: "POST" });
    expect(await res.json()).toEqual({ id: request.runId, status: "cancelled" });
    const end = doneOf(await stream.closed);
    expect(end).toMatchObject({ status: "cancelled", result: null, error: "cancelled while it was running" });
    // Nothing of the run is left: no CLI finishing its turn on its own, no MCP server.
    await vi.waitFor(() => expect(processesWorkingIn(box.home)).toEqual([]), { timeout: 10_000 });
    expect(await getRun(box, request.runId)).toMatchObject({ status: "cancelled" });

    // A finished run answers its status unchanged.
    const again = await box.request(`/runs/${request.runId}/cancel`, { method: "POST" });
    expect(await again.json()).toEqual({ id: request.runId, status: "cancelled" });
    hold.open();
  });

  it("drops a queued run at once, and it never runs", async () => {
    const first = runRequest({ contextId: "busy", message: "SLOW first" });
    const second = runRequest({ contextId: "busy", message: "second" });
    await dispatch(box, first);
    await dispatch(box, second);
    await modelReached(first.runId);
    expect((await getRun(box, second.runId)).status, "waits behind the first of its thread").toBe("queued");

    const res = await box.request(`/runs/${second.runId}/cancel`, { method: "POST" });
    expect(await res.json()).toEqual({ id: second.runId, status: "cancelled" });
    const events = await (await followEvents(box, second.runId)).closed;
    expect(types(events)).toEqual(["status:queued", "done"]);
    expect(doneOf(events)).toMatchObject({
      status: "cancelled",
      error: "cancelled before it started",
      durationMs: 0,
    });

    hold.open();
    const firstEvents = await (await followEvents(box, first.runId)).closed;
    expect(doneOf(firstEvents).status).toBe("completed");
    expect(fake.messageRequests().flatMap((r) => r.conversation.userTexts())).not.toContain("second");
    const done = await box.request(`/runs/${first.runId}/cancel`, { method: "POST" });
    expect(await done.json()).toEqual({ id: first.runId, status: "completed" });
  });
});

describe("sessions and limits", { timeout: 180_000 }, () => {
  it("continues the context's session, or starts a fresh one that becomes the context's", async () => {
    const first = await runToEnd(box, runRequest({ contextId: "daily", message: "remember 42" }));
    const continued = await runToEnd(box, runRequest({ contextId: "daily", message: "what number?" }));
    expect(continued.end.sessionId).toBe(first.end.sessionId);
    expect(fake.messageRequests().at(-1)?.conversation.userTexts()).toEqual(["remember 42", "what number?"]);

    const fresh = await runToEnd(
      box,
      runRequest({ contextId: "daily", message: "a new day", session: "fresh" }),
    );
    expect(fresh.end.status).toBe("completed");
    expect(fresh.end.sessionId).not.toBe(first.end.sessionId);
    expect(fake.messageRequests().at(-1)?.conversation.userTexts()).toEqual(["a new day"]);
    expect(fresh.end.costUsd).toBeGreaterThan(0);

    const after = await runToEnd(box, runRequest({ contextId: "daily", message: "and now?" }));
    expect(after.end.sessionId).toBe(fresh.end.sessionId);
  });

  it("ends a run that outlasts its own maxDurationMs as failed, naming the limit", async () => {
    const request = runRequest({ message: "SLOW forever", limits: { maxDurationMs: 3000 } });
    const { end } = await runToEnd(box, request);
    expect(end.status).toBe("failed");
    expect(end.error).toBe("the run took longer than its limit of 3 s (limits.maxDurationMs = 3000)");
    await vi.waitFor(() => expect(processesWorkingIn(box.home)).toEqual([]), { timeout: 10_000 });
    hold.open();
  });
});

describe("stopping the daemon", { timeout: 180_000 }, () => {
  it("interrupts the run in progress, keeps queued ones queued, and runs them after the next start", async () => {
    const inFlight = runRequest({ contextId: "night", message: "SLOW report" });
    const queued = runRequest({ contextId: "night", message: "next report" });
    await dispatch(box, inFlight);
    await dispatch(box, queued);
    const inFlightStream = await followEvents(box, inFlight.runId);
    const queuedStream = await followEvents(box, queued.runId);
    await modelReached(inFlight.runId);

    await box.stop();
    expect(processesWorkingIn(box.home)).toEqual([]);
    expect(doneOf(await inFlightStream.closed)).toMatchObject({
      status: "interrupted",
      error: "box-agent shut down while the run was in progress",
    });
    // The queued run's stream ends without a `done`: the platform follows it again after the restart.
    expect(types(await queuedStream.closed)).toEqual(["status:queued"]);
    const store = SessionStore.open(box.config.paths.database);
    expect(store.runs.get(queued.runId)?.status).toBe("queued");
    store.close();

    hold.open();
    await box.restart();
    const resumed = await followEvents(box, queued.runId, 1);
    const end = doneOf(await resumed.closed);
    expect(end, JSON.stringify(end)).toMatchObject({ status: "completed", result: "You said: next report" });
    expect(resumed.events[0]?.seq).toBe(2);
    expect((await getRun(box, inFlight.runId)).status).toBe("interrupted");
  });
});
