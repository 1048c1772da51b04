"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { ArrowDownLeftIcon, ArrowUpRightIcon, RefreshCwIcon } from "lucide-react";
import { useSearchParams } from "next/navigation";
import { useEffect, useId, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { EMAIL_STATUSES, type EmailDirection, type EmailStatus, type EmailSummary } from "@/lib/box-api";
import { BOX_TAB_ITEM_PARAM, replaceSearchParam } from "@/lib/box-tabs";
import { TRANSITIONAL_POLL_MS } from "@/lib/boxes-query";
import { orpc } from "@/lib/orpc";
import { EmptyState, ErrorState, LoadingState } from "../panel-states";
import { RelativeTime } from "../relative-time";
import { EmailDetailView } from "./email-detail";
import { EmailSettingsForm } from "./email-settings-form";
import { EmailStatusBadge, isEmailInProgress } from "./email-status-badge";

const PAGE_SIZE = 25;
/** Radix Select has no empty value: "all" stands for no filter. */
const ALL = "all";

interface EmailFilters {
  direction: EmailDirection | typeof ALL;
  status: EmailStatus | typeof ALL;
}

/** The box's email, newest first, a page at a time; a page shorter than asked for is the last. */
function emailsQuery(boxId: string, filters: EmailFilters) {
  return orpc.email.list.infiniteOptions({
    input: (before: string | undefined) => ({
      boxId,
      limit: PAGE_SIZE,
      ...(filters.direction === ALL ? {} : { direction: filters.direction }),
      ...(filters.status === ALL ? {} : { status: filters.status }),
      ...(before ? { before } : {}),
    }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => (page.length === PAGE_SIZE ? page.at(-1)?.id : undefined),
  });
}

function counterpart(email: EmailSummary): string {
  return email.direction === "inbound" ? email.from : email.to.join(", ");
}

function FilterSelect<Value extends string>({
  label,
  value,
  onChange,
  options,
  testId,
}: {
  label: string;
  value: Value;
  onChange: (value: Value) => void;
  options: { value: Value; label: string }[];
  testId: string;
}) {
  const id = useId();
  return (
    <div className="grid min-w-40 gap-1.5">
      <Label htmlFor={id}>{label}</Label>
      <Select value={value} onValueChange={(next) => onChange(next as Value)}>
        <SelectTrigger id={id} data-testid={testId}>
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          {options.map((option) => (
            <SelectItem key={option.value} value={option.value}>
              {option.label}
            </SelectItem>
          ))}
        </SelectContent>
      </Select>
    </div>
  );
}

const DIRECTION_OPTIONS: { value: EmailFilters["direction"]; label: string }[] = [
  { value: ALL, label: "In and out" },
  { value: "inbound", label: "Inbound" },
  { value: "outbound", label: "Outbound" },
];
const STATUS_OPTIONS: { value: EmailFilters["status"]; label: string }[] = [
  { value: ALL, label: "Any" },
  ...EMAIL_STATUSES.map((status) => ({ value: status, label: status })),
];

function EmailRow({ email, onOpen }: { email: EmailSummary; onOpen: (id: string) => void }) {
  const inbound = email.direction === "inbound";
  const DirectionIcon = inbound ? ArrowDownLeftIcon : ArrowUpRightIcon;
  return (
    <li>
      <button
        type="button"
        className="flex w-full min-w-0 items-start gap-3 rounded-md px-2 py-3 text-left hover:bg-accent focus-visible:ring-[3px] focus-visible:ring-ring/50 focus-visible:outline-none"
        onClick={() => onOpen(email.id)}
        data-testid="email-item"
        data-email-id={email.id}
      >
        <DirectionIcon
          className={
            inbound ? "mt-0.5 size-4 shrink-0 text-primary" : "mt-0.5 size-4 shrink-0 text-muted-foreground"
          }
          aria-hidden
        />
        <span className="grid min-w-0 flex-1 gap-0.5">
          <span className="flex min-w-0 items-baseline justify-between gap-2">
            <span className="truncate text-sm">
              <span className="text-muted-foreground">{inbound ? "from" : "to"}</span> {counterpart(email)}
            </span>
            <span className="shrink-0 text-xs text-muted-foreground">
              <RelativeTime iso={email.createdAt} />
            </span>
          </span>
          <span className="truncate font-medium">{email.subject || "(no subject)"}</span>
          {email.errorMessage ? (
            <span className="line-clamp-2 text-sm text-destructive">{email.errorMessage}</span>
          ) : null}
        </span>
        <EmailStatusBadge status={email.status} />
      </button>
    </li>
  );
}

function EmailList({ box, active, onOpen }: { box: Box; active: boolean; onOpen: (id: string) => void }) {
  const [filters, setFilters] = useState<EmailFilters>({ direction: ALL, status: ALL });
  const list = useInfiniteQuery({
    ...emailsQuery(box.id, filters),
    enabled: active,
    // Poll only while a listed email is still on its way (being delivered, sent, or answered).
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.some((email) => isEmailInProgress(email.status)))
        ? TRANSITIONAL_POLL_MS
        : false,
  });
  const emails = [...new Map((list.data?.pages.flat() ?? []).map((email) => [email.id, email])).values()];
  const filtered = filters.direction !== ALL || filters.status !== ALL;

  return (
    <Card data-testid="emails">
      <CardHeader>
        <CardTitle>Email</CardTitle>
        <CardDescription className="break-words">
          Mail to and from <code className="font-mono">{box.email}</code>, newest first.
        </CardDescription>
        <CardAction>
          {/* Not disabled while fetching: the list polls, and a button flickering on and off is no use. */}
          <Button variant="outline" size="sm" onClick={() => list.refetch()} aria-busy={list.isFetching}>
            <RefreshCwIcon aria-hidden className={list.isFetching ? "animate-spin" : undefined} /> Refresh
          </Button>
        </CardAction>
      </CardHeader>
      <CardContent className="grid min-w-0 gap-4">
        <fieldset className="flex flex-wrap gap-3">
          <legend className="sr-only">Filter emails</legend>
          <FilterSelect
            label="Direction"
            value={filters.direction}
            onChange={(direction) => setFilters((current) => ({ ...current, direction }))}
            options={DIRECTION_OPTIONS}
            testId="email-filter-direction"
          />
          <FilterSelect
            label="Status"
            value={filters.status}
            onChange={(status) => setFilters((current) => ({ ...current, status }))}
            options={STATUS_OPTIONS}
            testId="email-filter-status"
          />
        </fieldset>

        {list.isError && !list.isFetchNextPageError ? (
          <ErrorState
            title="Could not load emails"
            error={list.error}
            onRetry={() => list.refetch()}
            testId="emails-error"
          />
        ) : null}
        {list.isPending ? <LoadingState label="Loading emails…" testId="emails-loading" /> : null}
        {list.isSuccess && emails.length === 0 ? (
          <EmptyState
            title={filtered ? "No email matches these filters" : "No email yet"}
            testId="emails-empty"
          >
            {filtered ? (
              "Clear the filters to see everything."
            ) : (
              <>
                Send a message to <code className="font-mono">{box.email}</code> and it shows up here, with
                Claude's replies.
              </>
            )}
          </EmptyState>
        ) : null}
        {emails.length > 0 ? (
          <ul className="grid min-w-0 divide-y" data-testid="email-list">
            {emails.map((email) => (
              <EmailRow key={email.id} email={email} onOpen={onOpen} />
            ))}
          </ul>
        ) : null}
        {list.isFetchNextPageError ? (
          <p className="text-sm text-destructive" role="alert">
            Could not load older emails: {errorMessage(list.error)}
          </p>
        ) : null}
        {list.hasNextPage ? (
          <div className="flex justify-center">
            <Button
              variant="outline"
              onClick={() => list.fetchNextPage()}
              disabled={list.isFetchingNextPage}
              data-testid="emails-load-more"
            >
              {list.isFetchingNextPage ? "Loading…" : "Load more"}
            </Button>
          </div>
        ) : null}
      </CardContent>
    </Card>
  );
}

/**
 * The email open is the URL's `?email=`: a run's link to the email it answers lands on it, and a
 * reload or a shared link keeps it.
 */
export function EmailPanel({ box, active }: { box: Box; active: boolean }) {
  const openId = useSearchParams().get(BOX_TAB_ITEM_PARAM.email);
  const lastOpened = useRef<string | null>(null);
  const panelRef = useRef<HTMLDivElement>(null);

  // Back from an email, the keyboard continues where it left: on that email's row.
  useEffect(() => {
    if (openId !== null) {
      lastOpened.current = openId;
    } else if (lastOpened.current) {
      panelRef.current
        ?.querySelector<HTMLButtonElement>(`[data-email-id="${CSS.escape(lastOpened.current)}"]`)
        ?.focus();
    }
  }, [openId]);

  function open(id: string | null) {
    replaceSearchParam(BOX_TAB_ITEM_PARAM.email, id);
  }

  return (
    <div ref={panelRef} className="grid min-w-0 gap-6">
      {openId ? (
        <EmailDetailView key={openId} boxId={box.id} emailId={openId} onBack={() => open(null)} />
      ) : (
        <EmailList box={box} active={active} onOpen={open} />
      )}
      <EmailSettingsForm boxId={box.id} />
    </div>
  );
}
