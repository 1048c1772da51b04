"use client";

import { type FormEvent, type KeyboardEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { ApiError, errorMessage } from "@/lib/api-error";
import type { Box, BoxStatus } from "@/lib/box";
import {
  type ContextType,
  cronjobsApi,
  type SessionContext,
  type SessionRun,
  sessionsApi,
} from "@/lib/box-api";
import { formatCost, formatDuration } from "@/lib/format";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { useAuthRedirect } from "../use-auth-redirect";
import { useResource } from "../use-resource";

/** The context box-agent uses when the dashboard names none: the owner's main conversation. */
const MAIN_CONTEXT_ID = "owner";
/** The sessions route returns this many runs per session. */
const RUNS_SHOWN = 10;

interface ContextRef {
  type: ContextType;
  id: string;
}

interface PendingMessage {
  contextId: string;
  message: string;
  startedAt: number;
}

const contextKey = (ref: ContextRef) => `${ref.type}:${ref.id}`;

function newContextId(): string {
  return `chat-${Date.now().toString(36)}`;
}

function conversationTitle(context: SessionContext | undefined, id: string): string {
  if (id === MAIN_CONTEXT_ID) {
    return "Main conversation";
  }
  const first = context?.runs.at(-1)?.prompt.trim();
  if (!first) {
    return "New conversation";
  }
  return first.length > 48 ? `${first.slice(0, 47)}…` : first;
}

function historyTitle(context: SessionContext, cronNames: ReadonlyMap<string, string>): string {
  if (context.contextType === "cron") {
    return `Cron · ${cronNames.get(context.contextId) ?? context.contextId}`;
  }
  return `Email · ${context.contextId}`;
}

const NOT_RUNNING: Record<Exclude<BoxStatus, "running">, { title: string; next: string }> = {
  pending: {
    title: "it is waiting for its deploy to start",
    next: "Follow the deploy on the Overview tab; chat opens when it finishes.",
  },
  deploying: {
    title: "it is still deploying",
    next: "Follow the deploy on the Overview tab; chat opens when it finishes.",
  },
  error: { title: "its last deploy failed", next: "Redeploy it with the button above, then come back." },
  deleting: { title: "it is being deleted", next: "A deleted box cannot chat." },
};

function describeSendError(error: unknown, box: Box): string {
  if (error instanceof ApiError && error.status === 409) {
    const next =
      box.status === "running" ? "Wait until it is running again, then send." : NOT_RUNNING[box.status].next;
    return `Claude can only talk while the box is running. ${next} (The server said: ${error.message})`;
  }
  if (error instanceof ApiError && error.status === 503) {
    return `The box did not answer: ${error.message}. It may be waking up; try again in a moment.`;
  }
  return errorMessage(error);
}

function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return <>{formatDuration(Math.max(0, now - since))}</>;
}

function RunMessages({ run, trigger }: { run: SessionRun; trigger: ContextType }) {
  const failed = run.status === "failed" || Boolean(run.error);
  const meta = [
    run.status,
    run.durationMs !== null ? formatDuration(run.durationMs) : null,
    run.costUsd !== null ? formatCost(run.costUsd) : null,
  ].filter(Boolean);
  return (
    <li className="chat-run" data-testid="chat-run" data-run-id={run.id} data-status={run.status}>
      <div className="chat-message chat-message-user">
        <div className="chat-author">
          {trigger === "session" ? "You" : trigger === "email" ? "Email trigger" : "Cron trigger"}{" "}
          <span className="muted small">
            <RelativeTime iso={run.startedAt} />
          </span>
        </div>
        <div className="chat-text" data-testid="chat-prompt">
          {run.prompt}
        </div>
      </div>
      <div className={`chat-message chat-message-claude${failed ? " chat-message-failed" : ""}`}>
        <div className="chat-author">
          Claude <span className="muted small">{meta.join(" · ")}</span>
        </div>
        {run.status === "running" ? (
          <p className="muted">Still working on this…</p>
        ) : run.result ? (
          <div className="chat-text" data-testid="chat-result">
            {run.result}
          </div>
        ) : failed ? null : (
          <p className="muted">No answer text.</p>
        )}
        {run.error ? (
          <p className="chat-error" data-testid="chat-run-error">
            {run.error}
          </p>
        ) : null}
        {run.note ? <p className="muted small">Note: {run.note}</p> : null}
      </div>
    </li>
  );
}

export function ChatPanel({ box, active }: { box: Box; active: boolean }) {
  const handleAuth = useAuthRedirect();
  const running = box.status === "running";
  const load = useCallback(() => sessionsApi.list(box.id), [box.id]);
  const sessions = useResource(load, active && running);
  const [selected, setSelected] = useState<ContextRef>({ type: "session", id: MAIN_CONTEXT_ID });
  const [localConversations, setLocalConversations] = useState<string[]>([]);
  // Answers kept here until the sessions list shows them (or when reloading it fails).
  const [localRuns, setLocalRuns] = useState<Record<string, SessionRun[]>>({});
  const [message, setMessage] = useState("");
  const [pending, setPending] = useState<PendingMessage | null>(null);
  const [sendError, setSendError] = useState<string | null>(null);
  const messageId = useId();
  const hintId = useId();
  const errorId = useId();
  const endRef = useRef<HTMLDivElement>(null);

  const contexts = sessions.data ?? [];
  const conversations = contexts.filter((context) => context.contextType === "session");
  const history = contexts.filter((context) => context.contextType !== "session");
  // Cron runs are kept under the cronjob's id; its name reads better.
  const loadCronjobs = useCallback(() => cronjobsApi.list(box.id), [box.id]);
  const cronjobs = useResource(
    loadCronjobs,
    history.some((context) => context.contextType === "cron"),
  );
  const cronNames = new Map((cronjobs.data ?? []).map((cronjob) => [cronjob.id, cronjob.name]));
  const conversationIds = [
    ...new Set([
      MAIN_CONTEXT_ID,
      ...conversations.map((context) => context.contextId),
      ...localConversations,
    ]),
  ];
  const selectedContext = contexts.find(
    (context) => context.contextType === selected.type && context.contextId === selected.id,
  );
  const serverRuns = selectedContext?.runs ?? [];
  const extraRuns = (localRuns[contextKey(selected)] ?? []).filter(
    (run) => !serverRuns.some((known) => known.id === run.id),
  );
  const runs = [...serverRuns].reverse().concat(extraRuns);
  const readOnly = selected.type !== "session";
  const pendingHere = pending !== null && !readOnly && pending.contextId === selected.id;

  useEffect(() => {
    if (runs.length > 0 || pendingHere) {
      endRef.current?.scrollIntoView({ block: "nearest" });
    }
  }, [runs.length, pendingHere]);

  async function send(event?: FormEvent<HTMLFormElement>) {
    event?.preventDefault();
    const text = message.trim();
    if (!text || pending || readOnly) {
      if (!text) {
        setSendError("Write a message first.");
      }
      return;
    }
    const contextId = selected.id;
    setPending({ contextId, message: text, startedAt: Date.now() });
    setSendError(null);
    setMessage("");
    try {
      const result = await sessionsApi.send(box.id, { contextId, message: text });
      const run: SessionRun = {
        id: result.runId,
        status: result.status,
        prompt: text,
        result: result.result,
        startedAt: new Date().toISOString(),
        completedAt: new Date().toISOString(),
        durationMs: result.durationMs,
        costUsd: result.costUsd,
        error: result.error ?? null,
        note: result.note ?? null,
      };
      const key = contextKey({ type: "session", id: contextId });
      setLocalRuns((current) => ({ ...current, [key]: [...(current[key] ?? []), run] }));
      await sessions.reload();
    } catch (caught) {
      if (handleAuth(caught)) {
        return;
      }
      setSendError(describeSendError(caught, box));
      // Give the text back, so nothing typed is lost.
      setMessage((current) => current || text);
    } finally {
      setPending(null);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.currentTarget.form?.requestSubmit();
    }
  }

  function startConversation() {
    const id = newContextId();
    setLocalConversations((current) => [...current, id]);
    setSelected({ type: "session", id });
    setSendError(null);
  }

  if (box.status !== "running") {
    return (
      <section className="card" aria-labelledby="chat-title" data-testid="chat-unavailable">
        <h2 id="chat-title" className="card-title">
          Chat
        </h2>
        <EmptyState title={`Chat opens once the box is running; ${NOT_RUNNING[box.status].title}.`}>
          {NOT_RUNNING[box.status].next}
        </EmptyState>
      </section>
    );
  }

  return (
    <section className="card chat" aria-labelledby="chat-title" data-testid="chat">
      <div className="card-heading">
        <h2 id="chat-title" className="card-title">
          Chat
        </h2>
        <button
          type="button"
          className="button button-small"
          onClick={() => void sessions.reload()}
          aria-label="Refresh conversations"
        >
          Refresh
        </button>
      </div>
      {sessions.error ? (
        <ErrorState
          title="Could not load the conversations"
          error={sessions.error}
          onRetry={sessions.reload}
          testId="chat-load-error"
        />
      ) : null}
      <div className="chat-layout">
        <nav className="chat-sidebar" aria-label="Conversations">
          <button
            type="button"
            className="button button-small button-block-inline"
            onClick={startConversation}
            data-testid="chat-new"
          >
            + New conversation
          </button>
          <h3 className="chat-sidebar-title">Conversations</h3>
          <ul className="chat-context-list" data-testid="chat-conversations">
            {conversationIds.map((id) => {
              const context = conversations.find((candidate) => candidate.contextId === id);
              const current = selected.type === "session" && selected.id === id;
              return (
                <li key={id}>
                  <button
                    type="button"
                    className="chat-context"
                    aria-current={current ? "true" : undefined}
                    onClick={() => setSelected({ type: "session", id })}
                    data-testid="chat-conversation"
                    data-context-id={id}
                  >
                    <span className="chat-context-title">{conversationTitle(context, id)}</span>
                    <span className="muted small">
                      {context?.updatedAt ? <RelativeTime iso={context.updatedAt} /> : "no messages yet"}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
          <h3 className="chat-sidebar-title">History of every run</h3>
          {sessions.loading ? null : history.length === 0 ? (
            <p className="muted small" data-testid="chat-history-empty">
              Runs started by email or a cronjob appear here, read-only.
            </p>
          ) : (
            <ul className="chat-context-list" data-testid="chat-history">
              {history.map((context) => {
                const current = selected.type === context.contextType && selected.id === context.contextId;
                return (
                  <li key={contextKey({ type: context.contextType, id: context.contextId })}>
                    <button
                      type="button"
                      className="chat-context"
                      aria-current={current ? "true" : undefined}
                      onClick={() => setSelected({ type: context.contextType, id: context.contextId })}
                      data-testid="chat-history-item"
                    >
                      <span className="chat-context-title">{historyTitle(context, cronNames)}</span>
                      <span className="muted small">
                        {context.runs.length} run{context.runs.length === 1 ? "" : "s"}
                        {context.updatedAt ? (
                          <>
                            {" · "}
                            <RelativeTime iso={context.updatedAt} />
                          </>
                        ) : null}
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </nav>

        <div className="chat-main">
          <div className="chat-log" aria-live="polite" data-testid="chat-log">
            {sessions.loading && !sessions.data ? (
              <LoadingState label="Loading the conversation…" testId="chat-loading" />
            ) : runs.length === 0 && !pendingHere ? (
              <EmptyState title={readOnly ? "No runs recorded" : "No messages yet"} testId="chat-empty">
                {readOnly ? null : "Ask Claude something; it works in the box with its own tools and files."}
              </EmptyState>
            ) : (
              <>
                {serverRuns.length >= RUNS_SHOWN ? (
                  <p className="muted small chat-older">
                    Showing the latest {RUNS_SHOWN} runs of this session.
                  </p>
                ) : null}
                <ol className="chat-runs">
                  {runs.map((run) => (
                    <RunMessages key={run.id} run={run} trigger={selected.type} />
                  ))}
                  {pendingHere && pending ? (
                    <li className="chat-run" data-testid="chat-pending">
                      <div className="chat-message chat-message-user">
                        <div className="chat-author">You</div>
                        <div className="chat-text">{pending.message}</div>
                      </div>
                      <div className="chat-message chat-message-claude" role="status">
                        <div className="chat-author">Claude</div>
                        <p className="muted">
                          <span className="spinner spinner-small" aria-hidden="true" /> Working… (
                          <Elapsed since={pending.startedAt} />) — a run can take a few minutes.
                        </p>
                      </div>
                    </li>
                  ) : null}
                </ol>
              </>
            )}
            <div ref={endRef} />
          </div>

          {readOnly ? (
            <p className="muted small chat-readonly" data-testid="chat-readonly">
              Runs started by {selected.type === "email" ? "email" : "a cronjob"} are read-only here.
            </p>
          ) : (
            <form className="chat-composer" onSubmit={send} noValidate aria-label="Send a message to Claude">
              <label htmlFor={messageId}>Message</label>
              <textarea
                id={messageId}
                value={message}
                onChange={(event) => setMessage(event.target.value)}
                onKeyDown={onKeyDown}
                rows={3}
                placeholder="Ask Claude to do something in the box…"
                aria-describedby={sendError ? `${hintId} ${errorId}` : hintId}
                aria-invalid={sendError ? true : undefined}
                disabled={pending !== null}
                data-testid="chat-input"
              />
              <div className="chat-composer-actions">
                <span id={hintId} className="muted small">
                  Ctrl+Enter sends.{" "}
                  {pending && !pendingHere ? "Another conversation is waiting for Claude." : ""}
                </span>
                <button
                  type="submit"
                  className="button button-primary"
                  disabled={pending !== null}
                  data-testid="chat-send"
                >
                  {pending ? "Waiting for Claude…" : "Send"}
                </button>
              </div>
              {sendError ? (
                <p id={errorId} className="form-error" role="alert" data-testid="chat-error">
                  {sendError}
                </p>
              ) : null}
            </form>
          )}
        </div>
      </div>
    </section>
  );
}
