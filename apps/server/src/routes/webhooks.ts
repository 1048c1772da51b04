import {
  type ApiDeps,
  fetchResendInbound,
  InboundTooLargeError,
  receiveInboundEmail,
  recordUnroutedEmail,
} from "@vps-claude/api";
import { Hono } from "hono";
import { Webhook, WebhookVerificationError } from "svix";
import { errorResponse } from "../api-error";
import type { AppEnv } from "../app-env";

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
      return errorResponse(
        c,
        "SERVICE_UNAVAILABLE",
        "inbound email through Resend is not configured (set RESEND_API_KEY and RESEND_WEBHOOK_SECRET)",
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
        return errorResponse(c, "UNAUTHORIZED", `webhook signature rejected: ${err.message}`);
      }
      // Correctly signed but not JSON: nothing to store, and retrying will not fix it.
      return errorResponse(c, "BAD_REQUEST", "webhook body is not valid JSON");
    }
    if (event.type !== "email.received") {
      return c.json({ ignored: event.type }, 200);
    }
    const emailId = event.data?.email_id;
    if (typeof emailId !== "string" || emailId.length === 0 || emailId.length > 200) {
      return errorResponse(c, "BAD_REQUEST", "email.received event without a data.email_id");
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
      return errorResponse(c, "BAD_GATEWAY", "could not fetch the email from Resend; retry later");
    }
    const result = await receiveInboundEmail({ deps, message });
    return c.json({ received: true, unrouted: result.unrouted, emails: result.accepted }, 200);
  });

  return app;
}
