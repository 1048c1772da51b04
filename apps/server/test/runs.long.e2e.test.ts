import { boxCronjobExecution, boxEmail, boxRun } from "@vps-claude/db";
import {
  type AnthropicConversation,
  anthropicReply,
  describeToolResults,
  type FakeAnthropic,
  startFakeAnthropic,
} from "@vps-claude/testing";
import { eq } from "drizzle-orm";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedInClient, startTestServer, type TestClient, type TestServer, waitFor } from "./harness";

/**
 * The overnight case: runs whose model turn takes six minutes, started by chat, by a cron tick and by
 * an email at once, on the real stack (sprites-local, workers, the real Claude CLI in the box against
 * a fake Messages API that streams pings while the long turn is "generated", as the real API does).
 * No caller's timeout may end them: each completes with its true duration, and while it works its
 * record and a live stream show the transcript so far. A fourth run is cancelled mid-turn.
 */

const LONG_TURN_MS = 6 * 60_000;
const MINUTE = 60_000;

let fake: FakeAnthropic;
let server: TestServer;
let client: TestClient;
let boxId: string;
let address: string;
let releaseCancelled: () => void = () => {};

async function respond(conversation: AnthropicConversation) {
  const pending = conversation.pendingToolResults();
  const marker = /LONG-(\w+)|CANCEL-ME/.exec(JSON.stringify(conversation.messages));
  if (marker === null) {
    return pending.length > 0 ? describeToolResults(pending) : "OK";
  }
  if (pending.length === 0) {
    // A quick first turn with a tool call, so the transcript has something to show while the long one works.
    return anthropicReply.toolUse(
      "mcp__box-agent__email_list",
      {},
      "Checking the inbox before the long part.",
    );
  }
  if (marker[0] === "CANCEL-ME") {
    await new Promise<void>((resolve) => {
      releaseCancelled = resolve;
    });
    return "never shown";
  }
  await new Promise((resolve) => setTimeout(resolve, LONG_TURN_MS));
  return `Finished the long ${marker[1]} task.`;
}

interface SseEvent {
  id?: string;
  event: string;
  data: string;
  receivedAt: number;
}

/** Reads the user API's run stream as a browser's EventSource would, collecting events as they come. */
function followStream(runId: string) {
  const events: SseEvent[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const res = await fetch(`${server.url}/rpc/box/${boxId}/runs/${runId}/stream`, {
      headers: { cookie: client.cookieHeader, accept: "text/event-stream", origin: server.url },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type") ?? "").toContain("text/event-stream");
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      buffer += decoder.decode(chunk.value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: "message", data: "", receivedAt: Date.now() };
        for (const line of block.split("\n")) {
          const [field, value] = [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()];
          if (field === "id") {
            event.id = value;
          } else if (field === "event") {
            event.event = value;
          } else if (field === "data") {
            event.data += value;
          }
        }
        if (event.data !== "" || event.event !== "message") {
          events.push(event);
        }
        end = buffer.indexOf("\n\n");
      }
    }
  })().catch((error: unknown) => {
    if (!controller.signal.aborted) {
      throw error;
    }
  });
  return { events, done, stop: () => controller.abort() };
}

async function runOf(runId: string) {
  const res = await client.get(`/rpc/box/${boxId}/runs/${runId}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as unknown as {
    status: string;
    durationMs: number | null;
    events: { type: string; seq: number }[];
    cronjobExecutionId: string | null;
    emailId: string | null;
    error: string | null;
  };
}

async function waitRunId(find: () => Promise<string | undefined>, what: string) {
  const id = await waitFor(find, (value) => value !== undefined, { timeout: 120_000, interval: 500, what });
  return String(id);
}

beforeAll(async () => {
  fake = await startFakeAnthropic({ respond, pingWhilePendingMs: 10_000 });
  server = await startTestServer({
    workers: true,
    sprites: true,
    smtp: true,
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "sk-ant-test" },
    boxAgentEnv: { BOX_AGENT_MAX_CONCURRENT_RUNS: "4" },
  });
  ({ client } = await signedInClient(server));
  const created = await client.post("/rpc/box", { name: "Night shift" });
  boxId = String(created.body.id);
  address = String(created.body.email);
  const ready = await waitFor(
    async () => (await client.get(`/rpc/box/${boxId}`)).body,
    (body) => body.status === "running" || body.status === "error",
    { timeout: 180_000, what: "the box to deploy" },
  );
  if (ready.status !== "running") {
    throw new Error(`box did not deploy: ${JSON.stringify(ready)}`);
  }
}, 240_000);

afterAll(async () => {
  releaseCancelled();
  await server?.close();
  await fake?.close();
});

describe("a six-minute run", () => {
  it(
    "completes with its true duration from chat, cron and email; is visible live while it works; a cancel ends another",
    async () => {
      // Chat.
      const chat = await client.post(`/rpc/box/${boxId}/runs`, { message: "LONG-chat: research overnight" });
      expect(chat.status, JSON.stringify(chat.body)).toBe(202);
      const chatRunId = String(chat.body.runId);
      const live = followStream(chatRunId);

      // A cron tick (run now is recorded like a scheduled tick), with its own limit above the default.
      const job = await client.post(`/rpc/box/${boxId}/cronjobs`, {
        name: "nightly research",
        schedule: "0 3 1 1 *",
        prompt: "LONG-cron: the nightly research",
        maxDurationMinutes: 20,
      });
      expect(job.status, JSON.stringify(job.body)).toBe(201);
      const tick = await client.post(`/rpc/box/${boxId}/cronjobs/${job.body.id}/run`, {});
      expect(tick.status, JSON.stringify(tick.body)).toBe(202);
      const cronRunId = await waitRunId(async () => {
        const [row] = await server.deps.db
          .select()
          .from(boxRun)
          .where(eq(boxRun.cronjobId, String(job.body.id)));
        return row?.id;
      }, "the cron tick's run");

      // An email.
      await nodemailer
        .createTransport({ host: "127.0.0.1", port: Number(server.smtpPort), ignoreTLS: true })
        .sendMail({
          from: "Dana <dana@example.com>",
          to: address,
          subject: "A long one",
          text: "LONG-email: please dig into this.",
          messageId: "<long-one@example.com>",
        });
      const emailRunId = await waitRunId(async () => {
        const [row] = await server.deps.db
          .select({ run: boxRun })
          .from(boxRun)
          .innerJoin(boxEmail, eq(boxEmail.id, boxRun.emailId))
          .where(eq(boxEmail.messageId, "<long-one@example.com>"));
        return row?.run.id;
      }, "the email's run");

      // A fourth run, cancelled in the middle of its model turn.
      const doomed = await client.post(`/rpc/box/${boxId}/runs`, { message: "CANCEL-ME when asked" });
      const doomedId = String(doomed.body.runId);
      await waitFor(
        () => runOf(doomedId),
        (run) => run.events.some((event) => event.type === "tool_result"),
        { timeout: 180_000, interval: 1_000, what: "the doomed run to reach its long turn" },
      );
      const cancelledAt = Date.now();
      const cancel = await client.post(`/rpc/box/${boxId}/runs/${doomedId}/cancel`, {});
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
      const cancelled = await waitFor(
        () => runOf(doomedId),
        (run) => run.status !== "running" && run.status !== "queued",
        { timeout: 60_000, interval: 500, what: "the cancelled run to end" },
      );
      expect(cancelled.status).toBe("cancelled");
      expect(Date.now() - cancelledAt).toBeLessThan(60_000);

      // Mid-run (minutes in, past every HTTP timeout a caller used to have): running, with the transcript so far.
      await new Promise((resolve) => setTimeout(resolve, 5 * MINUTE));
      for (const runId of [chatRunId, cronRunId, emailRunId]) {
        const run = await runOf(runId);
        expect(run.status, `${runId}: ${run.error}`).toBe("running");
        expect(run.events.map((event) => event.type)).toEqual(
          expect.arrayContaining(["status", "text", "tool_use", "tool_result"]),
        );
        expect(run.events.some((event) => event.type === "done")).toBe(false);
      }
      // The stream subscriber got the transcript so far live, long before the run ends.
      // oRPC sends each transcript event as `event: message` with the event as data, the end as `event: done`.
      const liveTypes = live.events
        .filter((event) => event.event === "message")
        .map((event) => (JSON.parse(event.data) as { type: string }).type);
      expect(liveTypes).toEqual(expect.arrayContaining(["text", "tool_use", "tool_result"]));
      expect(live.events.every((event) => event.receivedAt < Date.now())).toBe(true);
      expect(live.events.some((event) => event.event === "done")).toBe(false);

      // The end: each completed, with its true duration, and what started it ended with it.
      const ended = await Promise.all(
        [chatRunId, cronRunId, emailRunId].map((runId) =>
          waitFor(
            () => runOf(runId),
            (run) => !["queued", "running"].includes(run.status),
            { timeout: 6 * MINUTE, interval: 2_000, what: `run ${runId} to end` },
          ),
        ),
      );
      for (const run of ended) {
        expect(run.status, String(run.error)).toBe("completed");
        expect(run.durationMs).toBeGreaterThanOrEqual(LONG_TURN_MS);
      }
      await live.done;
      expect(live.events.at(-1)?.event).toBe("done");

      const [execution] = await server.deps.db
        .select()
        .from(boxCronjobExecution)
        .where(eq(boxCronjobExecution.id, String(ended[1]?.cronjobExecutionId)));
      expect(execution?.status, String(execution?.errorMessage)).toBe("completed");
      expect(execution?.durationMs).toBeGreaterThanOrEqual(LONG_TURN_MS);
      expect(execution?.runId).toBe(cronRunId);

      const [email] = await server.deps.db
        .select()
        .from(boxEmail)
        .where(eq(boxEmail.id, String(ended[2]?.emailId)));
      expect(email?.status, String(email?.errorMessage)).toBe("processed");
    },
    20 * MINUTE,
  );
});
