import { randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { startFakeResend } from "../resend";
import type {
  ResendChildMessage,
  ResendChildRequest,
  WebhookLoadReport,
  WebhookLoadSpec,
  WebhookOutcome,
} from "./resend-process";

/** Runs in a child process started by `startResendProcess`: the fake Resend and its webhook sender. */
const resend = await startFakeResend();
const reply = (message: ResendChildMessage) => process.send?.(message);
// It records every request; a load test must not grow it without bound.
setInterval(() => resend.requests.splice(0), 5_000).unref();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function post(
  agent: Agent,
  target: URL,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    // Svix's timeout is for the whole attempt (connecting included), not for a silent socket.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on("close", () => clearTimeout(timer));
    req.on("error", reject);
    req.end(body);
  });
}

/** One webhook, delivered as Svix delivers: the same message id each attempt, signed anew, retried after a pause. */
async function deliver(
  agent: Agent,
  target: URL,
  spec: WebhookLoadSpec,
  emailId: string,
): Promise<WebhookOutcome> {
  const messageId = `msg_${randomBytes(16).toString("base64url")}`;
  let outcome: WebhookOutcome = { emailId, attempts: 0, status: 0, answerMs: 0 };
  const attempts = spec.retryScheduleMs.length + 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const hook = resend.signedEmailReceivedWebhook(emailId, { secret: spec.secret, id: messageId });
    const sentAt = performance.now();
    const answerMs = () => Math.round(performance.now() - sentAt);
    try {
      const answer = await post(agent, target, hook.body, { ...hook.headers }, spec.timeoutMs);
      const ok = answer.status >= 200 && answer.status < 300;
      outcome = {
        emailId,
        attempts: attempt,
        status: answer.status,
        answerMs: answerMs(),
        ...(ok ? {} : { error: answer.text.slice(0, 300) }),
      };
      if (ok) {
        return outcome;
      }
    } catch (err) {
      outcome = {
        emailId,
        attempts: attempt,
        status: 0,
        answerMs: answerMs(),
        error: err instanceof Error ? err.message : String(err),
      };
    }
    if (attempt < attempts) {
      await sleep(spec.retryScheduleMs[attempt - 1] ?? 0);
    }
  }
  return outcome;
}

/** An open loop: each webhook leaves when its slot comes, however the server is doing. */
async function send(spec: WebhookLoadSpec): Promise<WebhookLoadReport> {
  const target = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 256 });
  const intervalMs = 1000 / spec.ratePerSecond;
  const start = performance.now() + 20;
  const pending: Promise<WebhookOutcome>[] = [];
  let maxSendLagMs = 0;
  for (let index = 0; index < spec.emailIds.length; index++) {
    const due = start + index * intervalMs;
    if (due - performance.now() > 1) {
      await sleep(due - performance.now());
    }
    maxSendLagMs = Math.max(maxSendLagMs, performance.now() - due);
    pending.push(deliver(agent, target, spec, String(spec.emailIds[index])));
  }
  const outcomes = await Promise.all(pending);
  agent.destroy();
  return {
    outcomes,
    maxSendLagMs: Math.round(maxSendLagMs),
    durationMs: Math.round(performance.now() - start),
  };
}

process.on("message", (message: ResendChildRequest) => {
  if (message.type === "close") {
    void resend.close().finally(() => process.exit(0));
  } else if (message.type === "add") {
    reply({
      type: "added",
      id: message.id,
      emailIds: message.emails.map((email) => resend.addInboundEmail(email)),
    });
  } else {
    void send(message.spec).then((report) => reply({ type: "sent", id: message.id, report }));
  }
});
// The parent going away (a crash, Ctrl-C) takes this process with it.
process.on("disconnect", () => process.exit(0));
reply({ type: "ready", url: resend.url, apiKey: resend.apiKey });
