import { boxAgentContract, isEmailId } from "@vps-claude/contract/box-agent";
import type { Logger } from "@vps-claude/logger";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { type BoxApiClient, BoxApiError } from "../box-api";
import { EmailNotFoundError, type Inbox } from "../email/inbox";
import { type ReceiveInboundEmailOptions, receiveInboundEmail } from "../email/receive-email";
import { Answer, contractRoute } from "./contract-route";
import { errorResponse, HttpError } from "./errors";
import { parseJsonBody } from "./validation";

export interface EmailRoutesDeps {
  inbox: Inbox;
  runner: ReceiveInboundEmailOptions["runner"];
  boxApi: Pick<BoxApiClient, "forward">;
  logger: Logger;
}

/** The platform accepts inbound emails up to 25 MiB; as JSON, with text and HTML, this leaves room. */
const MAX_RECEIVE_BYTES = 64 * 1024 * 1024;
const MAX_SEND_BYTES = 2 * 1024 * 1024;

/** The id reaches the filesystem, so anything but the strict id shape stops here. */
function emailIdParam(raw: string): string {
  if (!isEmailId(raw)) {
    throw new HttpError(
      "BAD_REQUEST",
      `'${raw.slice(0, 100)}' is not an email id: ids are 1–80 characters of a-z, 0-9 and '_'`,
    );
  }
  return raw;
}

function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: (c) => errorResponse(c, "PAYLOAD_TOO_LARGE", `the request body is larger than ${maxSize} bytes`),
  });
}

export function emailRoutes({ inbox, runner, boxApi, logger }: EmailRoutesDeps): Hono {
  const app = new Hono();

  contractRoute(
    app,
    boxAgentContract.email.receive,
    (email, c) => {
      const key = c.req.header("idempotency-key");
      if (key !== undefined && key !== email.id) {
        throw new HttpError(
          "BAD_REQUEST",
          `the Idempotency-Key header ('${key.slice(0, 100)}') must be the email's id ('${email.id}')`,
        );
      }
      const { duplicate } = receiveInboundEmail({ inbox, runner, logger, email });
      return duplicate
        ? new Answer(200, { id: email.id, duplicate: true })
        : { id: email.id, accepted: true as const };
    },
    limitBody(MAX_RECEIVE_BYTES),
  );

  contractRoute(app, boxAgentContract.email.list, ({ archived, limit }) => ({
    emails: inbox.list({ archived, limit }).map(({ id, from, subject, receivedAt, threadId, read }) => ({
      id,
      from,
      subject,
      receivedAt,
      threadId,
      read,
    })),
  }));

  // Not in the contract: it passes the box API's `email.send` through, and that contract types it.
  app.post("/email/send", limitBody(MAX_SEND_BYTES), async (c) => {
    // The platform validates and answers for itself (400, 404, 413, 429); its answer is passed on as is.
    const body = await parseJsonBody(c, z.record(z.string(), z.unknown()));
    let answer: Awaited<ReturnType<typeof boxApi.forward>>;
    try {
      answer = await boxApi.forward("POST", "/box/email/send", body);
    } catch (error) {
      if (error instanceof BoxApiError) {
        throw new HttpError("BAD_GATEWAY", error.message);
      }
      throw error;
    }
    return new Response(answer.text, {
      status: answer.status,
      headers: { "content-type": answer.contentType ?? "application/json" },
    });
  });

  contractRoute(app, boxAgentContract.email.get, (params) => {
    const id = emailIdParam(params.id);
    const stored = inbox.get(id);
    if (stored === undefined) {
      throw new HttpError("NOT_FOUND", `no email ${id} in the inbox or its archive`);
    }
    return stored.email;
  });

  contractRoute(app, boxAgentContract.email.markRead, (params) => {
    const id = emailIdParam(params.id);
    try {
      const { alreadyRead } = inbox.markRead(id);
      return { id, read: true as const, alreadyRead };
    } catch (error) {
      if (error instanceof EmailNotFoundError) {
        throw new HttpError("NOT_FOUND", error.message);
      }
      throw error;
    }
  });

  return app;
}
