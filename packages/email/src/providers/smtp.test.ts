import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { EmailSendError } from "../errors";
import { type ParsedEmail, parseMime } from "../parse-mime";
import type { OutboundEmail } from "../types";
import { createSmtpProvider } from "./smtp";

interface Relay {
  url: (user?: string, pass?: string) => string;
  received: { envelope: { from: string; to: string[] }; raw: Buffer; parsed: ParsedEmail }[];
  close: () => Promise<void>;
}

const relays: Relay[] = [];

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

type SmtpError = Error & { responseCode?: number };

/** A real SMTP relay on 127.0.0.1 that requires AUTH and answers like Postfix ("queued as …"). */
async function startRelay(overrides: Partial<SMTPServerOptions> = {}): Promise<Relay> {
  const received: Relay["received"] = [];
  let queue = 0;
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    onAuth(auth, _session, callback) {
      if (auth.username === "relay" && auth.password === "s3cret") {
        callback(null, { user: "relay" });
        return;
      }
      const error: SmtpError = new Error("Invalid username or password");
      error.responseCode = 535;
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        };
        parseMime(raw).then(
          (parsed) => {
            received.push({ envelope, raw, parsed });
            queue += 1;
            callback(null, `2.0.0 Ok: queued as Q${queue}ABC`);
          },
          (error: Error) => callback(error),
        );
      });
    },
    ...overrides,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  const relay: Relay = {
    url: (user = "relay", pass = "s3cret") => `smtp://${user}:${pass}@127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  relays.push(relay);
  return relay;
}

const email: OutboundEmail = {
  id: "email_01jsmtp",
  from: "My Box <mybox@agents.example.com>",
  to: ["alice@example.org"],
  cc: ["bob@example.org"],
  subject: "Re: Weekly report",
  html: "<p>Done ✓</p>",
  text: "Done ✓\n",
  replyTo: "mybox@agents.example.com",
  headers: {
    "Message-ID": "<out1@agents.example.com>",
    "In-Reply-To": "<in1@example.org>",
    References: "<in0@example.org> <in1@example.org>",
  },
  attachments: [{ filename: "r.csv", content: Buffer.from("a,b\n"), contentType: "text/csv" }],
};

async function sendError(promise: Promise<unknown>): Promise<EmailSendError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(EmailSendError);
  return error as EmailSendError;
}

describe("SMTP relay provider", () => {
  it("delivers through an authenticated relay and returns the relay's queue id", async () => {
    const relay = await startRelay();
    const provider = createSmtpProvider({ url: relay.url() });
    const { providerMessageId } = await provider.send(email);
    expect(providerMessageId).toBe("Q1ABC");

    const [delivery] = relay.received;
    expect(delivery?.envelope).toEqual({
      from: "mybox@agents.example.com",
      to: ["alice@example.org", "bob@example.org"],
    });
    expect(delivery?.parsed).toMatchObject({
      messageId: "<out1@agents.example.com>",
      inReplyTo: "<in1@example.org>",
      references: ["<in0@example.org>", "<in1@example.org>"],
      from: { name: "My Box", address: "mybox@agents.example.com" },
      subject: "Re: Weekly report",
      html: "<p>Done ✓</p>",
    });
    expect(delivery?.parsed.text.trim()).toBe("Done ✓");
    expect(delivery?.parsed.attachments[0]?.content.toString()).toBe("a,b\n");
  });

  it("marks 4xx replies retryable and 5xx replies permanent", async () => {
    let reply = 451;
    const relay = await startRelay({
      onRcptTo(_address, _session, callback) {
        const error: SmtpError = new Error(reply === 451 ? "Try again later" : "Mailbox unavailable");
        error.responseCode = reply;
        callback(error);
      },
    });
    const provider = createSmtpProvider({ url: relay.url() });
    const transient = await sendError(provider.send(email));
    expect(transient).toMatchObject({ provider: "smtp", retryable: true, statusCode: 451 });

    reply = 550;
    const permanent = await sendError(provider.send(email));
    expect(permanent).toMatchObject({ retryable: false, statusCode: 550 });
    expect(permanent.message).toContain("Mailbox unavailable");
  });

  it("reports recipients the relay refused while delivering to the others", async () => {
    const relay = await startRelay({
      onRcptTo(address, _session, callback) {
        if (address.address === "bob@example.org") {
          const error: SmtpError = new Error("No such user");
          error.responseCode = 550;
          callback(error);
          return;
        }
        callback();
      },
    });
    const result = await createSmtpProvider({ url: relay.url() }).send(email);
    expect(result.rejectedRecipients).toEqual(["bob@example.org"]);
    expect(relay.received[0]?.envelope.to).toEqual(["alice@example.org"]);
  });

  it("does not retry bad credentials, does retry an unreachable relay", async () => {
    const relay = await startRelay();
    const wrongPassword = createSmtpProvider({ url: relay.url("relay", "nope") });
    expect(await sendError(wrongPassword.send(email))).toMatchObject({ retryable: false, code: "EAUTH" });

    const url = relay.url();
    await relay.close();
    relays.length = 0;
    const unreachable = createSmtpProvider({ url });
    expect(await sendError(unreachable.send(email))).toMatchObject({ retryable: true, code: "ESOCKET" });
  });
});
