import type { EmailProvider } from "../types";
import { createOutboxProvider } from "./outbox";
import { createResendProvider } from "./resend";
import { createSmtpProvider } from "./smtp";

export interface EmailProviderConfig {
  /** RESEND_API_KEY */
  resendApiKey?: string;
  /** RESEND_BASE_URL */
  resendBaseUrl?: string;
  /** SMTP_URL */
  smtpUrl?: string;
  /** Where the local outbox lives (under `.data/`); used when neither Resend nor SMTP is configured. */
  outboxDir: string;
}

/** Resend when it has a key, else the SMTP relay when it has a URL, else the local outbox. */
export function selectEmailProvider(config: EmailProviderConfig): EmailProvider {
  if (config.resendApiKey) {
    return createResendProvider({ apiKey: config.resendApiKey, baseUrl: config.resendBaseUrl || undefined });
  }
  if (config.smtpUrl) {
    return createSmtpProvider({ url: config.smtpUrl });
  }
  return createOutboxProvider({ dir: config.outboxDir });
}
