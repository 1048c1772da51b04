"use client";

import { useCallback, useId, useState } from "react";
import { errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import {
  EMAIL_STATUSES,
  type EmailDirection,
  type EmailStatus,
  type EmailSummary,
  emailsApi,
} from "@/lib/box-api";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { useAuthRedirect } from "../use-auth-redirect";
import { useResource } from "../use-resource";
import { EmailDetailView } from "./email-detail";
import { EmailSettingsForm } from "./email-settings-form";
import { EmailStatusBadge } from "./email-status-badge";

const PAGE_SIZE = 25;

interface EmailPage {
  emails: EmailSummary[];
  /** False once a page came back shorter than asked for. */
  more: boolean;
}

function counterpart(email: EmailSummary): string {
  return email.direction === "inbound" ? email.from : email.to.join(", ");
}

export function EmailPanel({ box, active }: { box: Box; active: boolean }) {
  const handleAuth = useAuthRedirect();
  const [direction, setDirection] = useState<EmailDirection | "">("");
  const [status, setStatus] = useState<EmailStatus | "">("");
  const [openId, setOpenId] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const directionId = useId();
  const statusId = useId();

  const load = useCallback(async (): Promise<EmailPage> => {
    const emails = await emailsApi.list(box.id, {
      direction: direction || undefined,
      status: status || undefined,
      limit: PAGE_SIZE,
    });
    return { emails, more: emails.length === PAGE_SIZE };
  }, [box.id, direction, status]);
  const list = useResource(load, active);
  const { setData } = list;

  async function loadMore() {
    const last = list.data?.emails.at(-1);
    if (!last) {
      return;
    }
    setLoadingMore(true);
    setMoreError(null);
    try {
      const older = await emailsApi.list(box.id, {
        direction: direction || undefined,
        status: status || undefined,
        limit: PAGE_SIZE,
        before: last.id,
      });
      setData((current) => ({
        emails: [
          ...(current?.emails ?? []),
          ...older.filter((email) => !current?.emails.some((known) => known.id === email.id)),
        ],
        more: older.length === PAGE_SIZE,
      }));
    } catch (caught) {
      if (!handleAuth(caught)) {
        setMoreError(errorMessage(caught));
      }
    } finally {
      setLoadingMore(false);
    }
  }

  const onEmailChanged = useCallback(
    (changed: EmailSummary) => {
      setData((current) =>
        current
          ? {
              ...current,
              emails: current.emails.map((email) =>
                email.id === changed.id ? { ...email, ...changed } : email,
              ),
            }
          : current,
      );
    },
    [setData],
  );

  if (openId) {
    return (
      <EmailDetailView
        boxId={box.id}
        emailId={openId}
        onBack={() => setOpenId(null)}
        onChanged={onEmailChanged}
      />
    );
  }

  const emails = list.data?.emails ?? [];
  const filtered = direction !== "" || status !== "";

  return (
    <div className="stack">
      <section className="card" aria-labelledby="emails-title" data-testid="emails">
        <div className="card-heading">
          <div>
            <h2 id="emails-title" className="card-title">
              Email
            </h2>
            <p className="muted small">
              Mail to and from <code>{box.email}</code>, newest first.
            </p>
          </div>
          <button type="button" className="button button-small" onClick={() => void list.reload()}>
            Refresh
          </button>
        </div>

        <fieldset className="filter-row">
          <legend className="visually-hidden">Filter emails</legend>
          <div className="field field-inline">
            <label htmlFor={directionId}>Direction</label>
            <select
              id={directionId}
              value={direction}
              onChange={(event) => setDirection(event.target.value as EmailDirection | "")}
              data-testid="email-filter-direction"
            >
              <option value="">In and out</option>
              <option value="inbound">Inbound</option>
              <option value="outbound">Outbound</option>
            </select>
          </div>
          <div className="field field-inline">
            <label htmlFor={statusId}>Status</label>
            <select
              id={statusId}
              value={status}
              onChange={(event) => setStatus(event.target.value as EmailStatus | "")}
              data-testid="email-filter-status"
            >
              <option value="">Any</option>
              {EMAIL_STATUSES.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          </div>
        </fieldset>

        {list.error ? (
          <ErrorState
            title="Could not load emails"
            error={list.error}
            onRetry={list.reload}
            testId="emails-error"
          />
        ) : null}
        {list.loading ? (
          <LoadingState label="Loading emails…" testId="emails-loading" />
        ) : emails.length === 0 && !list.error ? (
          <EmptyState
            title={filtered ? "No email matches these filters" : "No email yet"}
            testId="emails-empty"
          >
            {filtered ? (
              "Clear the filters to see everything."
            ) : (
              <>
                Send a message to <code>{box.email}</code> and it shows up here, with Claude's replies.
              </>
            )}
          </EmptyState>
        ) : (
          <ul className="email-list" data-testid="email-list">
            {emails.map((email) => (
              <li key={email.id}>
                <button
                  type="button"
                  className="email-row"
                  onClick={() => setOpenId(email.id)}
                  data-testid="email-item"
                  data-email-id={email.id}
                  aria-label={`${email.direction === "inbound" ? "From" : "To"} ${counterpart(email)}: ${email.subject || "(no subject)"}, ${email.status}`}
                >
                  <span
                    className={`email-direction email-direction-${email.direction}`}
                    title={email.direction === "inbound" ? "Received" : "Sent by the box"}
                    aria-hidden="true"
                  >
                    {email.direction === "inbound" ? "↓" : "↑"}
                  </span>
                  <span className="email-row-main">
                    <span className="email-row-top">
                      <span className="email-party">
                        <span className="muted small">{email.direction === "inbound" ? "from" : "to"}</span>{" "}
                        {counterpart(email)}
                      </span>
                      <span className="muted small email-time">
                        <RelativeTime iso={email.createdAt} />
                      </span>
                    </span>
                    <span className="email-subject">{email.subject || "(no subject)"}</span>
                    {email.errorMessage ? (
                      <span className="email-row-error">{email.errorMessage}</span>
                    ) : null}
                  </span>
                  <EmailStatusBadge status={email.status} />
                </button>
              </li>
            ))}
          </ul>
        )}
        {moreError ? (
          <p className="form-error" role="alert">
            Could not load older emails: {moreError}
          </p>
        ) : null}
        {list.data?.more ? (
          <div className="load-more">
            <button
              type="button"
              className="button"
              onClick={loadMore}
              disabled={loadingMore}
              data-testid="emails-load-more"
            >
              {loadingMore ? "Loading…" : "Load more"}
            </button>
          </div>
        ) : null}
      </section>

      <EmailSettingsForm boxId={box.id} />
    </div>
  );
}
