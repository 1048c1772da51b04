import {
  type ApiDeps,
  fetchResendInbound,
  InboundTooLargeError,
  receiveInboundEmail,
  recordUnroutedEmail,
} from "@vps-claude/api";
import { Hono } from "hono";
import { Webhook, WebhookVerificationError } from "svix";
import type { AppEnv } from "../app";

interface EmailReceivedEvent {
  type: string;
  data?: { email_id?: unknown };
}

/**
 * Resend's inbound webhook. The Svix signature is checked on the raw bytes (±5 minutes) before
 * anything is parsed or stored; a bad one gets 401 and leaves no trace. We answer 2xx only after the
 * email is committed, and 5xx when Resend's API could not give us the content, so Resend retries.
 */
export function createWebhookRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  app.post("/inbound-email", async (c) => {
    const secret = deps.config.email.webhookSecret;
    const resend = deps.config.email.resend;
    if (!secret || !resend) {
      return c.json(
        {
          code: "NOT_CONFIGURED",
          message:
            "inbound email through Resend is not configured (set RESEND_API_KEY and RESEND_WEBHOOK_SECRET)",
        },
        503,
      );
    }
    const raw = await c.req.text();
    let event: EmailReceivedEvent;
    try {
      event = new Webhook(secret).verify(raw, {
        "svix-id": c.req.header("svix-id") ?? "",
        "svix-timestamp": c.req.header("svix-timestamp") ?? "",
        "svix-signature": c.req.header("svix-signature") ?? "",
      }) as EmailReceivedEvent;
    } catch (err) {
      if (err instanceof WebhookVerificationError) {
        c.get("logger").warn({ reason: err.message }, "inbound webhook rejected");
        return c.json({ code: "UNAUTHORIZED", message: `webhook signature rejected: ${err.message}` }, 401);
      }
      // Correctly signed but not JSON: nothing to store, and retrying will not fix it.
      return c.json({ code: "BAD_REQUEST", message: "webhook body is not valid JSON" }, 400);
    }
    if (event.type !== "email.received") {
      return c.json({ ignored: event.type }, 200);
    }
    const emailId = event.data?.email_id;
    if (typeof emailId !== "string" || emailId.length === 0 || emailId.length > 200) {
      return c.json({ code: "BAD_REQUEST", message: "email.received event without a data.email_id" }, 400);
    }
    let message: Awaited<ReturnType<typeof fetchResendInbound>>;
    try {
      message = await fetchResendInbound({
        apiKey: resend.apiKey,
        baseUrl: resend.baseUrl,
        emailId,
        maxBytes: deps.config.email.maxMessageBytes,
      });
    } catch (err) {
      if (err instanceof InboundTooLargeError) {
        await recordUnroutedEmail({
          deps,
          provider: "resend",
          providerMessageId: emailId,
          from: "",
          to: [],
          subject: "",
          reason: err.message,
        });
        return c.json({ received: false, reason: err.message }, 200);
      }
      c.get("logger").error({ err, emailId }, "could not fetch inbound email from Resend");
      return c.json(
        { code: "UPSTREAM_ERROR", message: "could not fetch the email from Resend; retry later" },
        502,
      );
    }
    const result = await receiveInboundEmail({ deps, message });
    return c.json({ received: true, unrouted: result.unrouted, emails: result.accepted }, 200);
  });

  return app;
}
