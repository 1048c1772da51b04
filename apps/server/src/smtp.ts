import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type ApiDeps, findBoxForAddress, receiveInboundEmail } from "@vps-claude/api";
import { parseMime } from "@vps-claude/email";
import type { Logger } from "@vps-claude/logger";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

/**
 * The built-in inbound SMTP listener, for self-hosters with their own MX and for the embedded
 * default. It refuses mail for addresses that are not a box at RCPT time, bounds the size, parses
 * the MIME with mailparser, and hands the message to the same path as the Resend webhook. The 250
 * goes out only after the email is committed, so the sending server retries anything we lost.
 */
export async function startSmtpListener({
  deps,
  host,
  port,
  maxBytes,
  logger,
}: {
  deps: ApiDeps;
  host: string;
  port: number;
  maxBytes: number;
  logger: Logger;
}): Promise<SmtpListener> {
  const server = new SMTPServer({
    name: deps.config.agentsDomain,
    banner: "VPS Claude inbound mail",
    size: maxBytes,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    async onRcptTo(address, _session: SMTPServerSession, callback) {
      try {
        const target = await findBoxForAddress(deps, address.address);
        if (!target) {
          callback(smtpError(`5.1.1 <${address.address}>: no such mailbox here`, 550));
          return;
        }
        callback();
      } catch (err) {
        logger.error({ err }, "smtp recipient lookup failed");
        callback(smtpError("4.3.0 temporary failure, try again later", 451));
      }
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", async () => {
        if (stream.sizeExceeded) {
          callback(smtpError(`5.3.4 message exceeds the ${maxBytes}-byte limit`, 552));
          return;
        }
        const raw = Buffer.concat(chunks);
        try {
          const parsed = await parseMime(raw);
          const result = await receiveInboundEmail({
            deps,
            message: {
              provider: "smtp",
              providerMessageId: `sha256:${createHash("sha256").update(raw).digest("hex")}`,
              messageId: parsed.messageId,
              inReplyTo: parsed.inReplyTo,
              references: parsed.references,
              from: parsed.from
                ? parsed.from.name
                  ? `${parsed.from.name} <${parsed.from.address}>`
                  : parsed.from.address
                : session.envelope.mailFrom
                  ? session.envelope.mailFrom.address
                  : "",
              to: parsed.to.map((entry) => entry.address),
              cc: parsed.cc.map((entry) => entry.address),
              recipients: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              subject: parsed.subject ?? "",
              text: parsed.text,
              html: parsed.html,
              attachments: parsed.attachments.map((attachment) => ({
                filename: attachment.filename ?? "attachment",
                contentType: attachment.contentType,
                content: attachment.content,
                contentId: attachment.contentId,
              })),
            },
          });
          logger.info({ accepted: result.accepted.length }, "smtp message received");
          callback(null, "2.0.0 queued for the agent");
        } catch (err) {
          logger.error({ err }, "smtp message could not be stored");
          callback(smtpError("4.3.0 temporary failure, try again later", 451));
        }
      });
    },
  });
  server.on("error", (err) => logger.error({ err }, "smtp listener error"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.server.address() as AddressInfo;
  logger.info({ host, port: address.port }, "SMTP listener ready");
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
