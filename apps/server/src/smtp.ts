import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type ApiDeps, findBoxForAddress, receiveInboundEmail } from "@vps-claude/api";
import {
  authenticateSmtpMessage,
  createDnsLookup,
  type EmailAuthenticationVerdict,
  parseMime,
  UNCHECKED_EMAIL,
} from "@vps-claude/email";
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
 * New connections per client address in a sliding minute. In memory and per process: it bounds
 * what one address can make this listener do, which is all it is for.
 */
export function createConnectionRateLimiter({
  perMinute,
  now = Date.now,
}: {
  perMinute: number;
  now?: () => number;
}) {
  const windowMs = 60_000;
  const seen = new Map<string, number[]>();
  const sweep = (at: number) => {
    for (const [address, times] of seen) {
      if ((times.at(-1) ?? 0) <= at - windowMs) {
        seen.delete(address);
      }
    }
  };
  return {
    /** Records a connection from `address`; false when it is one too many for the minute. */
    allow(address: string): boolean {
      const at = now();
      if (seen.size > 10_000) {
        sweep(at);
      }
      const recent = (seen.get(address) ?? []).filter((time) => time > at - windowMs);
      if (recent.length >= perMinute) {
        seen.set(address, recent);
        return false;
      }
      recent.push(at);
      seen.set(address, recent);
      return true;
    },
  };
}

/**
 * The built-in inbound SMTP listener, for self-hosters with their own MX and for the embedded
 * default. It is on the internet's side of the platform, so every resource a client can make it
 * spend is bounded: connections at once (`maxClients`), new connections per address per minute,
 * and message bytes — past `maxBytes` the rest of the DATA stream is read and dropped, never
 * buffered, and answered 552. It refuses mail for addresses that are not a box at RCPT time,
 * checks SPF, DKIM and DMARC (the verdict decides whether the sender allowlist may match), parses
 * the MIME and hands the message to the same path as the Resend webhook. The 250 goes out only
 * after the email is committed, so the sending server retries anything we lost.
 */
export async function startSmtpListener({
  deps,
  host,
  port,
  maxBytes,
  maxClients = 50,
  connectionsPerMinute = 30,
  dnsServers,
  logger,
}: {
  deps: ApiDeps;
  host: string;
  port: number;
  maxBytes: number;
  maxClients?: number;
  connectionsPerMinute?: number;
  /** `host[:port]` of the DNS servers SPF/DKIM/DMARC resolve through; unset → the system's. */
  dnsServers?: string[];
  logger: Logger;
}): Promise<SmtpListener> {
  const lookup = createDnsLookup({ servers: dnsServers });
  const rateLimiter = createConnectionRateLimiter({ perMinute: connectionsPerMinute });

  async function authenticateMessage(raw: Buffer, session: SMTPServerSession) {
    try {
      return await authenticateSmtpMessage({
        message: raw,
        clientIp: session.remoteAddress,
        helo: session.hostNameAppearsAs || undefined,
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
        receivingHost: deps.config.agentsDomain,
        lookup,
      });
    } catch (err) {
      logger.warn({ err }, "smtp sender authentication failed; treating the sender as unauthenticated");
      return {
        ...UNCHECKED_EMAIL,
        source: "smtp",
        spf: "temperror",
        dkim: "temperror",
        dmarc: "temperror",
      } satisfies EmailAuthenticationVerdict;
    }
  }

  async function storeMessage(raw: Buffer, session: SMTPServerSession) {
    const parsed = await parseMime(raw);
    const authentication = await authenticateMessage(raw, session);
    return receiveInboundEmail({
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
        authentication,
      },
    });
  }

  const server = new SMTPServer({
    name: deps.config.agentsDomain,
    banner: "VPS Claude inbound mail",
    size: maxBytes,
    maxClients,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    // The client's PTR name is not used, and the lookup would go to the system resolver.
    disableReverseLookup: true,
    logger: false,
    onConnect(session: SMTPServerSession, callback) {
      if (!rateLimiter.allow(session.remoteAddress)) {
        logger.warn({ client: session.remoteAddress }, "smtp connection rate exceeded");
        callback(
          smtpError(
            `4.7.0 too many connections from ${session.remoteAddress}: at most ${connectionsPerMinute} a minute; try again later`,
            421,
          ),
        );
        return;
      }
      callback();
    },
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
      let chunks: Buffer[] = [];
      let received = 0;
      let refused = false;
      stream.on("data", (chunk: Buffer) => {
        if (refused) {
          return;
        }
        received += chunk.length;
        if (received > maxBytes || stream.sizeExceeded) {
          // Answer now; smtp-server reads the rest of the DATA stream into nothing and sends the 552
          // after the final dot, so memory stays at what was kept up to the limit, then drops that too.
          refused = true;
          chunks = [];
          logger.info({ client: session.remoteAddress, maxBytes }, "smtp message over the size limit");
          callback(smtpError(`5.3.4 message exceeds the ${maxBytes}-byte limit`, 552));
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", () => {
        chunks = [];
      });
      stream.on("end", async () => {
        if (refused) {
          return;
        }
        const raw = Buffer.concat(chunks);
        chunks = [];
        try {
          const result = await storeMessage(raw, session);
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
  logger.info(
    {
      host,
      port: address.port,
      maxClients,
      connectionsPerMinute,
      dns: dnsServers?.length ? dnsServers : "system",
    },
    "SMTP listener ready",
  );
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
