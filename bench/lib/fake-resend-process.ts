import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PreparedRequest } from "./open-loop";

export interface PrepareInboundEmails {
  count: number;
  /** The box address the emails are for. */
  to: string;
  /** The webhook's `whsec_…` signing secret. */
  secret: string;
  subjectPrefix: string;
}

export interface PreparedWebhook extends PreparedRequest {
  /** Resend's `email_id`. */
  emailId: string;
}

export type FakeResendRequest =
  | { type: "prepare"; id: number; options: PrepareInboundEmails }
  | { type: "close" };

export type FakeResendMessage =
  | { type: "ready"; url: string; apiKey: string }
  | { type: "prepared"; id: number; webhooks: PreparedWebhook[] };

export interface FakeResendProcess {
  url: string;
  apiKey: string;
  /** Registers `count` distinct received emails and returns the signed `email.received` webhook of each. */
  prepareWebhooks(options: PrepareInboundEmails): Promise<PreparedWebhook[]>;
  close(): Promise<void>;
}

/**
 * The fake Resend (receiving API + Svix-signed webhooks from @vps-claude/testing) in a child process,
 * so serving the server's `GET /emails/receiving/{id}` calls costs the measured event loop nothing:
 * in production that answer comes from Resend's machines, not ours.
 */
export async function startFakeResendProcess(): Promise<FakeResendProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./fake-resend-child.ts", import.meta.url)), {
    serialization: "advanced",
    stdio: ["ignore", process.stderr, "inherit", "ipc"],
  });
  const pending = new Map<number, (webhooks: PreparedWebhook[]) => void>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = new Promise<{ url: string; apiKey: string }>((resolve, reject) => {
    child.once("error", reject);
    void exited.then(() => reject(new Error("the fake Resend process exited before it was ready")));
    child.on("message", (message: FakeResendMessage) => {
      if (message.type === "ready") {
        resolve({ url: message.url, apiKey: message.apiKey });
      } else {
        pending.get(message.id)?.(message.webhooks);
        pending.delete(message.id);
      }
    });
  });
  const { url, apiKey } = await ready;
  const send = (request: FakeResendRequest) => child.send(request);
  return {
    url,
    apiKey,
    prepareWebhooks(options) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        send({ type: "prepare", id, options });
      });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        send({ type: "close" });
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
