import { randomBytes } from "node:crypto";
import { Webhook } from "svix";

export interface SvixHeaders {
  "svix-id": string;
  "svix-timestamp": string;
  "svix-signature": string;
}

export interface SignedWebhook {
  /** The exact bytes to POST; the signature covers this string, not a re-serialization of it. */
  body: string;
  headers: SvixHeaders;
}

export interface SignWebhookOptions {
  /** `whsec_…` signing secret, as Resend shows it for a webhook endpoint. */
  secret: string;
  /** An object is JSON-serialized once; a string is signed and sent as is. */
  payload: unknown;
  /** When the message was "sent": a Date or unix seconds. Defaults to now; pass an old one to test the ±5 min window. */
  timestamp?: Date | number;
  /** Svix message id; Svix redelivers a message with the same id, so reuse one to test dedupe. */
  id?: string;
}

/** A signing secret in Svix's format: `whsec_` + base64 of 24 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

/** Builds a webhook delivery exactly as Svix sends it, signed with `Webhook.sign` from the svix SDK. */
export function signedWebhook({ secret, payload, timestamp, id }: SignWebhookOptions): SignedWebhook {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const at =
    timestamp === undefined ? new Date() : timestamp instanceof Date ? timestamp : new Date(timestamp * 1000);
  const msgId = id ?? `msg_${randomBytes(16).toString("base64url")}`;
  const signature = new Webhook(secret).sign(msgId, at, body);
  return {
    body,
    headers: {
      "svix-id": msgId,
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": signature,
    },
  };
}
