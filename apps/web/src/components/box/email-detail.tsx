"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { errorMessage } from "@/lib/api-error";
import { type EmailAuthentication, type EmailDetail, type EmailSummary, emailsApi } from "@/lib/box-api";
import { formatBytes, formatDateTime } from "@/lib/format";
import { PaperclipIcon } from "../icons";
import { ErrorState, LoadingState } from "../panel-states";
import { useAuthRedirect } from "../use-auth-redirect";
import { useResource } from "../use-resource";
import { EmailStatusBadge } from "./email-status-badge";

interface EmailDetailViewProps {
  boxId: string;
  emailId: string;
  onBack: () => void;
  onChanged: (email: EmailSummary) => void;
}

/**
 * Remote images and styles in mail are tracking beacons as often as not; the policy leaves only
 * inline styles and embedded images. The parser hoists this meta into the document's head.
 */
const EMAIL_CSP =
  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:\">";

/**
 * An email's HTML is untrusted. It is shown only inside an iframe with an empty `sandbox`
 * (no scripts, no forms, no same-origin access, no top navigation) from `srcDoc`, never injected
 * into the dashboard's own DOM.
 */
function HtmlBody({ html }: { html: string }) {
  return (
    <iframe
      className="email-html"
      title="HTML version of the email"
      sandbox=""
      srcDoc={`${EMAIL_CSP}${html}`}
      referrerPolicy="no-referrer"
      data-testid="email-html"
    />
  );
}

const AUTHENTICATION_SOURCE: Record<EmailAuthentication["source"], string> = {
  smtp: "checked on receipt",
  resend: "as reported by Resend",
  none: "not checked",
};

/** Whether the message proves it came from its From domain: the SPF/DKIM/DMARC verdict in one line. */
function SenderVerdict({ authentication }: { authentication: EmailAuthentication }) {
  const domain = authentication.domain ?? "the From domain";
  return (
    <span data-testid="email-authentication">
      <strong>{authentication.authenticated ? `Verified: ${domain}` : `Not verified as ${domain}`}</strong>
      {" — "}SPF {authentication.spf}, DKIM {authentication.dkim}, DMARC {authentication.dmarc} (
      {AUTHENTICATION_SOURCE[authentication.source]})
    </span>
  );
}

export function EmailDetailView({ boxId, emailId, onBack, onChanged }: EmailDetailViewProps) {
  const handleAuth = useAuthRedirect();
  const load = useCallback(() => emailsApi.get(boxId, emailId), [boxId, emailId]);
  const email = useResource(load);
  const [view, setView] = useState<"text" | "html">("text");
  const [retrying, setRetrying] = useState(false);
  const [retryError, setRetryError] = useState<string | null>(null);
  const [retried, setRetried] = useState(false);
  const backRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    backRef.current?.focus();
  }, []);

  async function retry(current: EmailDetail) {
    setRetrying(true);
    setRetryError(null);
    try {
      const updated = await emailsApi.retry(boxId, current.id);
      email.setData(updated);
      onChanged(updated);
      setRetried(true);
    } catch (caught) {
      if (!handleAuth(caught)) {
        setRetryError(errorMessage(caught));
      }
    } finally {
      setRetrying(false);
    }
  }

  const data = email.data;
  const hasHtml = Boolean(data?.html);
  const shown = view === "html" && hasHtml ? "html" : "text";

  return (
    <section className="card" aria-labelledby="email-detail-title" data-testid="email-detail">
      <div className="card-heading">
        <button
          ref={backRef}
          type="button"
          className="button button-small"
          onClick={onBack}
          data-testid="email-back"
        >
          ← All email
        </button>
        {data?.status === "failed" ? (
          <button
            type="button"
            className="button button-small button-primary"
            onClick={() => void retry(data)}
            disabled={retrying}
            data-testid="email-retry"
          >
            {retrying ? "Retrying…" : data.direction === "inbound" ? "Retry delivery" : "Retry sending"}
          </button>
        ) : null}
      </div>

      {email.error ? (
        <ErrorState
          title="Could not load this email"
          error={email.error}
          onRetry={email.reload}
          testId="email-detail-error"
        />
      ) : null}
      {!data && !email.error ? (
        <LoadingState label="Loading the email…" testId="email-detail-loading" />
      ) : null}

      {data ? (
        <>
          <h2 id="email-detail-title" className="email-detail-subject" data-testid="email-detail-subject">
            <span aria-hidden="true" className={`email-direction email-direction-${data.direction}`}>
              {data.direction === "inbound" ? "↓" : "↑"}
            </span>{" "}
            {data.subject || "(no subject)"} <EmailStatusBadge status={data.status} />
          </h2>
          {retried ? (
            <p className="banner" role="status">
              Queued again; the status updates as the retry runs.
            </p>
          ) : null}
          {retryError ? (
            <p className="form-error" role="alert">
              Retry failed: {retryError}
            </p>
          ) : null}
          {data.errorMessage ? (
            <p className="banner banner-error" role="alert" data-testid="email-detail-error-message">
              {data.errorMessage}
            </p>
          ) : null}
          {data.untrustedSender ? (
            <p className="banner" role="note">
              {data.authentication && !data.authentication.authenticated
                ? "This sender is not trusted by the box's sender rules (an allowlisted address only counts when the message proves it came from that domain); it was kept but not given to Claude."
                : "This sender is not trusted by the box's sender rules; it was kept but not given to Claude."}
            </p>
          ) : null}

          <dl className="email-headers" data-testid="email-headers">
            <dt>From</dt>
            <dd>{data.from}</dd>
            <dt>To</dt>
            <dd>{data.to.join(", ")}</dd>
            {data.cc.length > 0 ? (
              <>
                <dt>Cc</dt>
                <dd>{data.cc.join(", ")}</dd>
              </>
            ) : null}
            {data.authentication ? (
              <>
                <dt>Sender</dt>
                <dd>
                  <SenderVerdict authentication={data.authentication} />
                </dd>
              </>
            ) : null}
            <dt>Date</dt>
            <dd>{formatDateTime(data.sentAt ?? data.deliveredAt ?? data.createdAt)}</dd>
            <dt>Message-ID</dt>
            <dd>
              <code>{data.messageId}</code>
            </dd>
            {data.inReplyTo ? (
              <>
                <dt>In-Reply-To</dt>
                <dd>
                  <code>{data.inReplyTo}</code>
                </dd>
              </>
            ) : null}
            <dt>Delivery</dt>
            <dd>
              {data.provider}, {data.attempts} attempt{data.attempts === 1 ? "" : "s"}
              {data.deliveredAt ? `, delivered ${formatDateTime(data.deliveredAt)}` : ""}
              {data.sentAt ? `, sent ${formatDateTime(data.sentAt)}` : ""}
            </dd>
          </dl>

          {data.attachments.length > 0 ? (
            <div className="email-attachments">
              <h3 className="small-heading">Attachments</h3>
              <ul className="tag-list" data-testid="email-attachments">
                {data.attachments.map((attachment) => (
                  <li
                    key={`${attachment.filename}:${attachment.contentType}:${attachment.size}`}
                    className="tag"
                    title={attachment.contentType}
                  >
                    <PaperclipIcon /> {attachment.filename}{" "}
                    <span className="muted small">({formatBytes(attachment.size)})</span>
                  </li>
                ))}
              </ul>
            </div>
          ) : null}

          {hasHtml ? (
            <fieldset className="segmented">
              <legend className="visually-hidden">Body format</legend>
              <button
                type="button"
                aria-pressed={shown === "text"}
                onClick={() => setView("text")}
                data-testid="email-view-text"
              >
                Text
              </button>
              <button
                type="button"
                aria-pressed={shown === "html"}
                onClick={() => setView("html")}
                data-testid="email-view-html"
              >
                HTML
              </button>
            </fieldset>
          ) : null}
          {shown === "html" && data.html ? (
            <>
              <HtmlBody html={data.html} />
              <p className="muted small">
                Shown sandboxed: scripts, forms and remote images in the email are blocked.
              </p>
            </>
          ) : (
            <pre className="email-text" data-testid="email-text">
              {data.text ?? data.markdown ?? "(This email has no text part.)"}
            </pre>
          )}
        </>
      ) : null}
    </section>
  );
}
