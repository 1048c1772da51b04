import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { InboundEmailInput } from "../resend";

const ENTRY = fileURLToPath(new URL("./resend-process-child.ts", import.meta.url));

/** How the child sends webhooks: Resend's way (Svix), on a clock, retrying what was not answered 2xx. */
export interface WebhookLoadSpec {
  /** The platform's webhook URL; only 127.0.0.1. */
  url: string;
  /** The endpoint's `whsec_…` signing secret. */
  secret: string;
  /** Resend email ids to announce, one `email.received` webhook each, in this order. */
  emailIds: string[];
  ratePerSecond: number;
  /**
   * The pause before each retry of a webhook not answered 2xx (Svix redelivers the same message id,
   * newly signed); its length is the number of retries. Svix's own schedule starts 5 s, 5 min, 30 min.
   */
  retryScheduleMs: number[];
  /** An attempt not answered within this is counted failed (Svix waits 15 s). */
  timeoutMs: number;
}

export interface WebhookOutcome {
  emailId: string;
  attempts: number;
  /** The last attempt's status; 0 when it got no answer. */
  status: number;
  /** How long the last attempt waited for its answer (or gave up). */
  answerMs: number;
  error?: string;
}

export interface WebhookLoadReport {
  outcomes: WebhookOutcome[];
  /** How late the sender was for its worst slot: when large, the offered rate was not held. */
  maxSendLagMs: number;
  durationMs: number;
}

export type ResendChildRequest =
  | { type: "add"; id: number; emails: InboundEmailInput[] }
  | { type: "send"; id: number; spec: WebhookLoadSpec }
  | { type: "close" };

export type ResendChildMessage =
  | { type: "ready"; url: string; apiKey: string }
  | { type: "added"; id: number; emailIds: string[] }
  | { type: "sent"; id: number; report: WebhookLoadReport };

/**
 * The outside world's Resend in its own process: the receiving API the platform fetches bodies
 * from, and the sender of the signed `email.received` webhooks. A load test's traffic then costs
 * the platform's event loop only what real traffic would (signing, HTTP clients and the fake's
 * answers run on someone else's machine in production).
 */
export interface ResendProcess {
  url: string;
  apiKey: string;
  /** Registers received emails; returns their Resend ids, in order. */
  addInboundEmails(emails: InboundEmailInput[]): Promise<string[]>;
  /** Sends one webhook per email at the spec's rate, each retried like Resend retries, and reports each. */
  sendWebhooks(spec: WebhookLoadSpec): Promise<WebhookLoadReport>;
  close(): Promise<void>;
}

export async function startResendProcess(): Promise<ResendProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pending = new Map<number, (message: ResendChildMessage) => void>();
  let nextId = 1;
  const ready = await new Promise<{ url: string; apiKey: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("the fake Resend process did not start within 30 s")),
      30_000,
    );
    child.once("error", reject);
    void exited.then(() => reject(new Error("the fake Resend process exited before it was ready")));
    child.on("message", (message: ResendChildMessage) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message);
      } else {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      }
    });
  });
  const ask = <T extends ResendChildMessage>(request: ResendChildRequest & { id: number }) =>
    new Promise<T>((resolve, reject) => {
      pending.set(request.id, (message) => resolve(message as T));
      void exited.then(() => reject(new Error("the fake Resend process exited while asked something")));
      child.send(request);
    });
  return {
    url: ready.url,
    apiKey: ready.apiKey,
    async addInboundEmails(emails) {
      const answer = await ask<Extract<ResendChildMessage, { type: "added" }>>({
        type: "add",
        id: nextId++,
        emails,
      });
      return answer.emailIds;
    },
    async sendWebhooks(spec) {
      const { hostname } = new URL(spec.url);
      if (hostname !== "127.0.0.1") {
        throw new Error(`refusing to send webhooks to ${spec.url}: tests only load 127.0.0.1`);
      }
      const answer = await ask<Extract<ResendChildMessage, { type: "sent" }>>({
        type: "send",
        id: nextId++,
        spec,
      });
      return answer.report;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: "close" } satisfies ResendChildRequest);
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
