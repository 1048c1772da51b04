import type { EmailProviderName } from "./types";

export interface EmailSendErrorOptions {
  provider: EmailProviderName;
  /** True when the same send may succeed later (rate limit, 5xx, 4xx SMTP reply, network); false when it never will. */
  retryable: boolean;
  /** HTTP status (Resend) or SMTP reply code; undefined for network failures. */
  statusCode?: number;
  /** The provider's error name (`validation_error`) or Node/nodemailer code (`ECONNECTION`). */
  code?: string;
  cause?: unknown;
}

/** Why a provider did not accept an email, and whether retrying the job makes sense. */
export class EmailSendError extends Error {
  readonly provider: EmailProviderName;
  readonly retryable: boolean;
  readonly statusCode: number | undefined;
  readonly code: string | undefined;

  constructor(message: string, options: EmailSendErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "EmailSendError";
    this.provider = options.provider;
    this.retryable = options.retryable;
    this.statusCode = options.statusCode;
    this.code = options.code;
  }
}
