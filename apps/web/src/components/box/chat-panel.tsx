"use client";

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createRunInput } from "@vps-claude/contract";
import { Loader2Icon, SquareIcon } from "lucide-react";
import Link from "next/link";
import { type KeyboardEvent, type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { Transcript } from "@/components/run/transcript";
import { useLiveRun } from "@/components/run/use-live-run";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Form, FormControl, FormField, FormItem, FormLabel, FormMessage } from "@/components/ui/form";
import { Textarea } from "@/components/ui/textarea";
import { asApiError, errorMessage } from "@/lib/api-error";
import type { Box, BoxStatus } from "@/lib/box";
import { showServerIssues } from "@/lib/form-errors";
import { formatCost, formatDuration } from "@/lib/format";
import { orpc, type UserApi } from "@/lib/orpc";
import { isLiveRun, RUN_STATUS_LABELS, type RunStatus, runPagePath } from "@/lib/runs";
import { cn } from "@/lib/utils";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { Elapsed } from "../run/elapsed";

/** The owner's main conversation (box-agent's default context for chat). */
const MAIN_CONTEXT_ID = "owner";
/** The session list answers this many runs per context. */
const RUNS_SHOWN = 5;
const messageSchema = createRunInput.pick({ message: true });

type SessionContext = Awaited<ReturnType<UserApi["session"]["list"]>>["sessions"][number];
type SessionRun = SessionContext["runs"][number];
type ContextType = SessionContext["contextType"];
/** A conversation, or history of email/cron runs; `id: null` is a new conversation not sent yet. */
interface ContextRef {
  type: ContextType;
  id: string | null;
}

/** A run this visit started, shown until the session list has it. */
interface SentRun {
  runId: string;
  contextId: string;
  prompt: string;
}

const sameContext = (a: ContextRef, b: ContextRef) => a.type === b.type && a.id === b.id;
const contextKey = (ref: ContextRef) => `${ref.type}:${ref.id ?? "new"}`;

function conversationTitle(
  context: SessionContext | undefined,
  id: string | null,
  sent: readonly SentRun[],
): string {
  if (id === MAIN_CONTEXT_ID) {
    return "Main conversation";
  }
  const first = (context?.runs.at(-1)?.prompt ?? sent.find((run) => run.contextId === id)?.prompt)?.trim();
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
  const status = asApiError(error)?.status;
  if (status === 409) {
    const next =
      box.status === "running" ? "Wait until it is running again, then send." : NOT_RUNNING[box.status].next;
    return `Claude can only talk while the box is running. ${next} (The server said: ${errorMessage(error)})`;
  }
  if (status === 503) {
    return `The box did not answer: ${errorMessage(error)}. It may be waking up; try again in a moment.`;
  }
  return errorMessage(error);
}

function authorOf(trigger: ContextType): string {
  return trigger === "session" ? "You" : trigger === "email" ? "Email trigger" : "Cron trigger";
}

function RunMeta({
  status,
  durationMs,
  costUsd,
}: {
  status: RunStatus;
  durationMs: number | null;
  costUsd: number | null;
}) {
  const meta = [RUN_STATUS_LABELS[status], formatDuration(durationMs), formatCost(costUsd)].filter(Boolean);
  return <span className="text-xs font-normal text-muted-foreground">{meta.join(" · ")}</span>;
}

function ChatBubble({
  author,
  meta,
  children,
  failed = false,
}: {
  author: string;
  meta?: ReactNode;
  children: ReactNode;
  failed?: boolean;
}) {
  const claude = author === "Claude";
  return (
    <div
      className={cn(
        "grid min-w-0 gap-1 rounded-lg border px-3 py-2",
        claude ? "bg-card" : "bg-muted",
        failed && "border-destructive/40",
      )}
    >
      <div className="flex flex-wrap items-center gap-2 text-sm font-medium">
        {author} {meta}
      </div>
      {children}
    </div>
  );
}

function RunLink({ boxId, runId }: { boxId: string; runId: string }) {
  return (
    <Link
      href={runPagePath(boxId, runId)}
      className="text-xs text-muted-foreground underline underline-offset-4"
      data-testid="chat-run-link"
    >
      Open the run
    </Link>
  );
}

/** A run the session list recorded and that has ended: its prompt and the answer's excerpt. */
function RecordedRun({ boxId, run, trigger }: { boxId: string; run: SessionRun; trigger: ContextType }) {
  const failed = run.status === "failed" || Boolean(run.error);
  return (
    <li className="grid min-w-0 gap-2" data-testid="chat-run" data-run-id={run.id} data-status={run.status}>
      <ChatBubble author={authorOf(trigger)} meta={<RelativeTime iso={run.startedAt} />}>
        <p className="text-sm whitespace-pre-wrap break-words" data-testid="chat-prompt">
          {run.prompt}
        </p>
      </ChatBubble>
      <ChatBubble
        author="Claude"
        failed={failed}
        meta={<RunMeta status={run.status} durationMs={run.durationMs} costUsd={run.costUsd} />}
      >
        {run.result ? (
          <p className="text-sm whitespace-pre-wrap break-words" data-testid="chat-result">
            {run.result}
          </p>
        ) : failed ? null : (
          <p className="text-sm text-muted-foreground">No answer text.</p>
        )}
        {run.error ? (
          <p className="text-sm text-destructive" data-testid="chat-run-error">
            {run.error}
          </p>
        ) : null}
        {run.note ? <p className="text-xs text-muted-foreground">Note: {run.note}</p> : null}
        <RunLink boxId={boxId} runId={run.id} />
      </ChatBubble>
    </li>
  );
}

/**
 * A run followed live: Claude's words and tool calls appear as the box reports them, and the
 * final figures once it ends. `onGrow` lets the log keep the newest line in view.
 */
function LiveRun({
  boxId,
  runId,
  prompt,
  trigger,
  onGrow,
  onStatus,
}: {
  boxId: string;
  runId: string;
  prompt: string;
  trigger: ContextType;
  onGrow: () => void;
  onStatus: (runId: string, status: RunStatus) => void;
}) {
  const { run, streamError } = useLiveRun(boxId, runId);
  const eventCount = run?.events.length ?? 0;
  const status = run?.status;
  const live = status ? isLiveRun(status) : true;
  useEffect(() => {
    if (eventCount > 0) {
      onGrow();
    }
  }, [eventCount, onGrow]);
  useEffect(() => {
    if (status) {
      onStatus(runId, status);
    }
  }, [runId, status, onStatus]);

  return (
    <li
      className="grid min-w-0 gap-2"
      data-testid="chat-run"
      data-run-id={runId}
      data-status={run?.status ?? "queued"}
    >
      <ChatBubble author={authorOf(trigger)}>
        <p className="text-sm whitespace-pre-wrap break-words" data-testid="chat-prompt">
          {prompt}
        </p>
      </ChatBubble>
      <ChatBubble
        author="Claude"
        failed={run?.status === "failed"}
        meta={run ? <RunMeta status={run.status} durationMs={run.durationMs} costUsd={run.costUsd} /> : null}
      >
        {run ? <Transcript events={run.events} compact /> : null}
        {live ? (
          <p className="flex items-center gap-2 text-sm text-muted-foreground" data-testid="chat-pending">
            <Loader2Icon className="size-4 animate-spin" aria-hidden />
            {run?.startedAt ? (
              <span>
                Working… (<Elapsed since={run.startedAt} />) — a run can take a few minutes.
              </span>
            ) : (
              <span>Waiting for the box to start…</span>
            )}
          </p>
        ) : null}
        {run?.error ? (
          <p className="text-sm text-destructive" data-testid="chat-run-error">
            {run.error}
          </p>
        ) : null}
        {streamError ? (
          <p className="text-sm text-destructive" role="alert">
            The live view stopped: {errorMessage(streamError)}
          </p>
        ) : null}
        <RunLink boxId={boxId} runId={runId} />
      </ChatBubble>
    </li>
  );
}

function Composer({
  box,
  contextId,
  busyRunId,
  onSent,
}: {
  box: Box;
  contextId: string | null;
  /** A run of this conversation still working: sending waits, Stop cancels it. */
  busyRunId: string | null;
  onSent: (sent: SentRun) => void;
}) {
  const queryClient = useQueryClient();
  const form = useForm({ resolver: zodResolver(messageSchema), defaultValues: { message: "" } });
  const send = useMutation(
    orpc.run.create.mutationOptions({
      onSuccess: ({ runId, contextId: sentTo }, { message }) => {
        form.reset();
        onSent({ runId, contextId: sentTo, prompt: message });
      },
      onError: (error) => showServerIssues(error, form.setError, ["message"]),
    }),
  );
  const stop = useMutation(
    orpc.run.cancel.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: orpc.run.key() }),
    }),
  );
  const sendError = send.error && !form.formState.errors.message ? describeSendError(send.error, box) : null;

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.currentTarget.form?.requestSubmit();
    }
  }

  return (
    <Form {...form}>
      <form
        className="grid gap-2"
        onSubmit={form.handleSubmit(({ message }) =>
          send.mutate({ boxId: box.id, message, ...(contextId ? { contextId } : {}) }),
        )}
        noValidate
        aria-label="Send a message to Claude"
      >
        <FormField
          control={form.control}
          name="message"
          render={({ field }) => (
            <FormItem>
              <FormLabel>Message</FormLabel>
              <FormControl>
                <Textarea
                  {...field}
                  onKeyDown={onKeyDown}
                  rows={3}
                  placeholder="Ask Claude to do something in the box…"
                  disabled={send.isPending}
                  data-testid="chat-input"
                />
              </FormControl>
              <FormMessage data-testid="chat-error" />
            </FormItem>
          )}
        />
        <div className="flex flex-wrap items-center justify-between gap-2">
          <span className="text-xs text-muted-foreground">
            Ctrl+Enter sends.{busyRunId ? " Claude is still answering the last message." : ""}
          </span>
          <div className="flex gap-2">
            {busyRunId ? (
              <Button
                type="button"
                variant="outline"
                onClick={() => stop.mutate({ boxId: box.id, runId: busyRunId })}
                disabled={stop.isPending}
                data-testid="chat-stop"
              >
                <SquareIcon aria-hidden /> {stop.isPending ? "Stopping…" : "Stop"}
              </Button>
            ) : null}
            <Button type="submit" disabled={send.isPending || busyRunId !== null} data-testid="chat-send">
              {send.isPending ? "Sending…" : "Send"}
            </Button>
          </div>
        </div>
        {sendError ? (
          <p className="text-sm text-destructive" role="alert" data-testid="chat-error">
            {sendError}
          </p>
        ) : null}
        {stop.error ? (
          <p className="text-sm text-destructive" role="alert">
            Could not stop the run: {errorMessage(stop.error)}
          </p>
        ) : null}
      </form>
    </Form>
  );
}

function ContextButton({
  current,
  onSelect,
  title,
  detail,
  testId,
  contextId,
}: {
  current: boolean;
  onSelect: () => void;
  title: string;
  detail: ReactNode;
  testId: string;
  contextId?: string;
}) {
  return (
    <button
      type="button"
      className={cn(
        "grid w-full gap-0.5 rounded-md px-2 py-1.5 text-left text-sm hover:bg-accent",
        current && "bg-accent font-medium",
      )}
      aria-current={current ? "true" : undefined}
      onClick={onSelect}
      data-testid={testId}
      data-context-id={contextId}
    >
      <span className="truncate">{title}</span>
      <span className="text-xs font-normal text-muted-foreground">{detail}</span>
    </button>
  );
}

/** Chat with Claude in the box: each message is a run, followed live, in a conversation that continues. */
export function ChatPanel({ box, active }: { box: Box; active: boolean }) {
  const running = box.status === "running";
  const sessions = useQuery(
    orpc.session.list.queryOptions({ input: { boxId: box.id }, enabled: active && running }),
  );
  const [selected, setSelected] = useState<ContextRef>({ type: "session", id: MAIN_CONTEXT_ID });
  const [sent, setSent] = useState<SentRun[]>([]);
  // What the followed runs' streams say now: the session list lags behind them.
  const [liveStatus, setLiveStatus] = useState<Record<string, RunStatus>>({});
  const endRef = useRef<HTMLDivElement>(null);
  const scrollToEnd = useCallback(() => endRef.current?.scrollIntoView({ block: "nearest" }), []);
  const onStatus = useCallback(
    (runId: string, status: RunStatus) =>
      setLiveStatus((current) => (current[runId] === status ? current : { ...current, [runId]: status })),
    [],
  );

  const contexts = sessions.data?.sessions ?? [];
  const conversations = contexts.filter((context) => context.contextType === "session");
  const history = contexts.filter((context) => context.contextType !== "session");
  const cronjobs = useQuery(
    orpc.cronjob.list.queryOptions({
      input: { boxId: box.id },
      // Cron runs are kept under the cronjob's id; its name reads better.
      enabled: history.some((context) => context.contextType === "cron"),
    }),
  );
  const cronNames = new Map((cronjobs.data ?? []).map((cronjob) => [cronjob.id, cronjob.name]));
  const conversationIds = [
    ...new Set([
      MAIN_CONTEXT_ID,
      ...conversations.map((context) => context.contextId),
      ...sent.map((run) => run.contextId),
    ]),
  ];
  const selectedContext = contexts.find(
    (context) => context.contextType === selected.type && context.contextId === selected.id,
  );
  const recorded = [...(selectedContext?.runs ?? [])].reverse();
  const followed = new Set(sent.map((run) => run.runId));
  const sentHere = sent.filter(
    (run) =>
      selected.type === "session" &&
      run.contextId === selected.id &&
      !recorded.some((r) => r.id === run.runId),
  );
  const busyRunId =
    [
      ...recorded.map((run) => ({ id: run.id, status: run.status })),
      ...sentHere.map((run) => ({ id: run.runId, status: "queued" as const })),
    ]
      .filter((run) => isLiveRun(liveStatus[run.id] ?? run.status))
      .at(-1)?.id ?? null;
  const readOnly = selected.type !== "session";
  const empty = recorded.length === 0 && sentHere.length === 0;

  function onSent(run: SentRun) {
    setSent((current) => [...current, run]);
    setSelected({ type: "session", id: run.contextId });
  }

  if (box.status !== "running") {
    return (
      <Card aria-labelledby="chat-title" data-testid="chat-unavailable">
        <CardHeader>
          <CardTitle id="chat-title">Chat</CardTitle>
        </CardHeader>
        <CardContent>
          <EmptyState title={`Chat opens once the box is running; ${NOT_RUNNING[box.status].title}.`}>
            {NOT_RUNNING[box.status].next}
          </EmptyState>
        </CardContent>
      </Card>
    );
  }

  return (
    <Card aria-labelledby="chat-title" data-testid="chat">
      <CardHeader className="flex flex-row items-center justify-between gap-2">
        <CardTitle id="chat-title">Chat</CardTitle>
        <Button
          variant="outline"
          size="sm"
          onClick={() => sessions.refetch()}
          aria-label="Refresh conversations"
        >
          Refresh
        </Button>
      </CardHeader>
      <CardContent className="grid min-w-0 gap-4">
        {sessions.isError ? (
          <ErrorState
            title="Could not load the conversations"
            error={sessions.error}
            onRetry={() => sessions.refetch()}
            testId="chat-load-error"
          />
        ) : null}
        <div className="grid min-w-0 gap-4 md:grid-cols-[14rem_minmax(0,1fr)]">
          <nav className="grid content-start gap-2" aria-label="Conversations">
            <Button
              variant="outline"
              size="sm"
              onClick={() => setSelected({ type: "session", id: null })}
              data-testid="chat-new"
            >
              + New conversation
            </Button>
            <h3 className="text-xs font-semibold text-muted-foreground uppercase">Conversations</h3>
            <ul className="grid gap-1" data-testid="chat-conversations">
              {[
                ...conversationIds,
                ...(selected.type === "session" && selected.id === null ? [null] : []),
              ].map((id) => {
                const context = conversations.find((candidate) => candidate.contextId === id);
                const ref: ContextRef = { type: "session", id };
                return (
                  <li key={contextKey(ref)}>
                    <ContextButton
                      current={sameContext(selected, ref)}
                      onSelect={() => setSelected(ref)}
                      title={conversationTitle(context, id, sent)}
                      detail={
                        context?.updatedAt ? <RelativeTime iso={context.updatedAt} /> : "no messages yet"
                      }
                      testId="chat-conversation"
                      contextId={id ?? undefined}
                    />
                  </li>
                );
              })}
            </ul>
            <h3 className="text-xs font-semibold text-muted-foreground uppercase">Email and cron runs</h3>
            {sessions.isPending ? null : history.length === 0 ? (
              <p className="text-xs text-muted-foreground" data-testid="chat-history-empty">
                Runs started by email or a cronjob appear here, read-only.
              </p>
            ) : (
              <ul className="grid gap-1" data-testid="chat-history">
                {history.map((context) => {
                  const ref: ContextRef = { type: context.contextType, id: context.contextId };
                  return (
                    <li key={contextKey(ref)}>
                      <ContextButton
                        current={sameContext(selected, ref)}
                        onSelect={() => setSelected(ref)}
                        title={historyTitle(context, cronNames)}
                        detail={`${context.runs.length} run${context.runs.length === 1 ? "" : "s"}`}
                        testId="chat-history-item"
                      />
                    </li>
                  );
                })}
              </ul>
            )}
          </nav>

          <div className="grid min-w-0 content-start gap-4">
            <div
              className="grid max-h-[60vh] gap-3 overflow-y-auto"
              aria-live="polite"
              data-testid="chat-log"
            >
              {sessions.isPending ? (
                <LoadingState label="Loading the conversation…" testId="chat-loading" />
              ) : empty ? (
                <EmptyState title={readOnly ? "No runs recorded" : "No messages yet"} testId="chat-empty">
                  {readOnly
                    ? null
                    : "Ask Claude something; it works in the box with its own tools and files."}
                </EmptyState>
              ) : (
                <>
                  {recorded.length >= RUNS_SHOWN ? (
                    <p className="text-xs text-muted-foreground">
                      Showing the latest {RUNS_SHOWN} runs; the Runs tab has every one.
                    </p>
                  ) : null}
                  <ol className="grid min-w-0 gap-4">
                    {recorded.map((run) =>
                      followed.has(run.id) || isLiveRun(run.status) ? (
                        <LiveRun
                          key={run.id}
                          boxId={box.id}
                          runId={run.id}
                          prompt={run.prompt}
                          trigger={selected.type}
                          onGrow={scrollToEnd}
                          onStatus={onStatus}
                        />
                      ) : (
                        <RecordedRun key={run.id} boxId={box.id} run={run} trigger={selected.type} />
                      ),
                    )}
                    {sentHere.map((run) => (
                      <LiveRun
                        key={run.runId}
                        boxId={box.id}
                        runId={run.runId}
                        prompt={run.prompt}
                        trigger="session"
                        onGrow={scrollToEnd}
                        onStatus={onStatus}
                      />
                    ))}
                  </ol>
                </>
              )}
              <div ref={endRef} />
            </div>

            {readOnly ? (
              <p className="text-sm text-muted-foreground" data-testid="chat-readonly">
                Runs started by {selected.type === "email" ? "email" : "a cronjob"} are read-only here.
              </p>
            ) : (
              <Composer box={box} contextId={selected.id} busyRunId={busyRunId} onSent={onSent} />
            )}
          </div>
        </div>
      </CardContent>
    </Card>
  );
}
