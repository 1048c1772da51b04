"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowLeftIcon, DownloadIcon, RotateCcwIcon } from "lucide-react";
import Link from "next/link";
import { type ReactNode, useEffect, useRef } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader } from "@/components/ui/card";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { errorMessage } from "@/lib/api-error";
import type { EmailAttachment, EmailAuthentication, EmailDetail } from "@/lib/box-api";
import { TRANSITIONAL_POLL_MS } from "@/lib/boxes-query";
import { formatBytes, formatDateTime } from "@/lib/format";
import { orpc } from "@/lib/orpc";
import { ErrorState, LoadingState } from "../panel-states";
import { EmailStatusBadge, isEmailInProgress } from "./email-status-badge";

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
      className="h-96 w-full rounded-md border bg-white"
      title="HTML version of the email"
      sandbox=""
      srcDoc={`${EMAIL_CSP}${html}`}
      referrerPolicy="no-referrer"
      data-testid="email-html"
    />
  );
}

const VERDICT_SOURCE: Record<EmailAuthentication["source"], string> = {
  smtp: "checked by this platform on receipt",
  resend: "as reported by Resend",
  none: "not checked",
};

/** Why the verdict is what it is, in one sentence an owner can act on. */
function verdictReason(authentication: EmailAuthentication): string {
  const domain = authentication.domain ?? "the From domain";
  if (authentication.authenticated) {
    if (authentication.dmarc === "pass") {
      return `DMARC passed: ${domain} vouches for this message.`;
    }
    return `${authentication.dkim === "pass" ? "A DKIM signature" : "SPF"} of ${domain} matched the From address.`;
  }
  if (authentication.source === "none") {
    return "Nothing could check who sent it, so it counts as unverified: anyone can write any From address.";
  }
  return `Nothing proves it came from ${domain}: neither DMARC nor an SPF or DKIM check aligned with the From address passed, so the From address may be forged.`;
}

function CheckResult({ name, result }: { name: string; result: string }) {
  const variant = result === "pass" ? "success" : result === "fail" ? "destructive" : "outline";
  return (
    <Badge variant={variant} data-testid={`email-check-${name.toLowerCase()}`} data-result={result}>
      {name} {result}
    </Badge>
  );
}

/** Whether the message proves it came from its From domain: the SPF/DKIM/DMARC verdict, plainly. */
function SenderVerdict({ authentication }: { authentication: EmailAuthentication }) {
  const domain = authentication.domain ?? "the From domain";
  return (
    <div
      className="grid gap-1.5"
      data-testid="email-authentication"
      data-authenticated={authentication.authenticated}
    >
      <p className="flex flex-wrap items-center gap-2">
        <Badge variant={authentication.authenticated ? "success" : "destructive"}>
          {authentication.authenticated ? "Authenticated" : "Not authenticated"}
        </Badge>
        <span className="font-medium" data-testid="email-authentication-summary">
          {authentication.authenticated ? `Sent by ${domain}` : `Not proven to be from ${domain}`}
        </span>
      </p>
      <p className="text-sm text-muted-foreground" data-testid="email-authentication-reason">
        {verdictReason(authentication)}
      </p>
      <p className="flex flex-wrap items-center gap-1.5 text-xs text-muted-foreground">
        <CheckResult name="SPF" result={authentication.spf} />
        <CheckResult name="DKIM" result={authentication.dkim} />
        <CheckResult name="DMARC" result={authentication.dmarc} />
        <span>({VERDICT_SOURCE[authentication.source]})</span>
      </p>
    </div>
  );
}

function attachmentUrl(boxId: string, emailId: string, index: number): string {
  return `/rpc/box/${encodeURIComponent(boxId)}/emails/${encodeURIComponent(emailId)}/attachments/${index}`;
}

/** Each attachment is a plain link to the download route: the browser saves it with the session cookie. */
function Attachments({ email, boxId }: { email: EmailDetail; boxId: string }) {
  return (
    <section className="grid gap-2" aria-labelledby="email-attachments-title">
      <h3 id="email-attachments-title" className="text-sm font-medium">
        Attachments
      </h3>
      <ul className="flex flex-wrap gap-2" data-testid="email-attachments">
        {email.attachments.map((attachment: EmailAttachment, index) => {
          // The route names an attachment by its place in the list, which never changes for an email.
          const href = attachmentUrl(boxId, email.id, index);
          return (
            <li key={href} className="min-w-0 max-w-full">
              <a
                href={href}
                download={attachment.filename}
                className="flex min-w-0 items-center gap-2 rounded-md border px-3 py-1.5 text-sm text-foreground hover:bg-accent hover:text-accent-foreground"
                title={attachment.contentType}
                data-testid="email-attachment-download"
                data-index={index}
              >
                <DownloadIcon className="size-4 shrink-0" aria-hidden />
                <span className="truncate">{attachment.filename}</span>
                <span className="shrink-0 text-muted-foreground">({formatBytes(attachment.size)})</span>
                <span className="sr-only">, download</span>
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function HeaderRow({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </>
  );
}

function EmailHeaders({ email, boxId }: { email: EmailDetail; boxId: string }) {
  return (
    <dl
      className="grid grid-cols-1 gap-x-4 gap-y-1 text-sm sm:grid-cols-[max-content_minmax(0,1fr)]"
      data-testid="email-headers"
    >
      <HeaderRow label="From">{email.from}</HeaderRow>
      <HeaderRow label="To">{email.to.join(", ")}</HeaderRow>
      {email.cc.length > 0 ? <HeaderRow label="Cc">{email.cc.join(", ")}</HeaderRow> : null}
      {email.authentication ? (
        <HeaderRow label="Sender">
          <SenderVerdict authentication={email.authentication} />
        </HeaderRow>
      ) : null}
      <HeaderRow label="Date">
        {formatDateTime(email.sentAt ?? email.deliveredAt ?? email.createdAt)}
      </HeaderRow>
      <HeaderRow label="Message-ID">
        <code className="font-mono text-xs break-all">{email.messageId}</code>
      </HeaderRow>
      {email.inReplyTo ? (
        <HeaderRow label="In-Reply-To">
          <code className="font-mono text-xs break-all">{email.inReplyTo}</code>
        </HeaderRow>
      ) : null}
      <HeaderRow label="Delivery">
        {email.provider}, {email.attempts} attempt{email.attempts === 1 ? "" : "s"}
        {email.deliveredAt ? `, delivered ${formatDateTime(email.deliveredAt)}` : ""}
        {email.sentAt ? `, sent ${formatDateTime(email.sentAt)}` : ""}
      </HeaderRow>
      {email.runId ? (
        <HeaderRow label="Run">
          <Link
            href={`/boxes/${encodeURIComponent(boxId)}/runs/${encodeURIComponent(email.runId)}`}
            className="text-primary underline-offset-4 hover:underline"
            data-testid="email-run-link"
          >
            Open its run
          </Link>
        </HeaderRow>
      ) : null}
    </dl>
  );
}

function EmailBody({ email }: { email: EmailDetail }) {
  const text = (
    <pre
      className="overflow-x-auto rounded-md bg-muted p-3 text-sm whitespace-pre-wrap break-words"
      data-testid="email-text"
    >
      {email.text ?? email.markdown ?? "(This email has no text part.)"}
    </pre>
  );
  if (!email.html) {
    return text;
  }
  return (
    <Tabs defaultValue="text" className="grid gap-2">
      <TabsList aria-label="Body format">
        <TabsTrigger value="text" data-testid="email-view-text">
          Text
        </TabsTrigger>
        <TabsTrigger value="html" data-testid="email-view-html">
          HTML
        </TabsTrigger>
      </TabsList>
      <TabsContent value="text">{text}</TabsContent>
      <TabsContent value="html" className="grid gap-1">
        <HtmlBody html={email.html} />
        <p className="text-xs text-muted-foreground">
          Shown sandboxed: scripts, forms and remote images in the email are blocked.
        </p>
      </TabsContent>
    </Tabs>
  );
}

function untrustedNote(email: EmailDetail): string {
  return email.authentication && !email.authentication.authenticated
    ? "This sender is not trusted by the box's sender rules (an allowlisted address only counts when the message proves it came from that domain); it was kept but not given to Claude."
    : "This sender is not trusted by the box's sender rules; it was kept but not given to Claude.";
}

interface EmailDetailViewProps {
  boxId: string;
  emailId: string;
  onBack: () => void;
}

export function EmailDetailView({ boxId, emailId, onBack }: EmailDetailViewProps) {
  const queryClient = useQueryClient();
  const backRef = useRef<HTMLButtonElement>(null);
  const email = useQuery(
    orpc.email.get.queryOptions({
      input: { boxId, id: emailId },
      // A retried or still-running email moves on by itself: follow it until it settles.
      refetchInterval: (query) =>
        query.state.data && isEmailInProgress(query.state.data.status) ? TRANSITIONAL_POLL_MS : false,
    }),
  );
  const retry = useMutation(
    orpc.email.retry.mutationOptions({
      onSuccess: async (updated) => {
        queryClient.setQueryData(orpc.email.get.queryKey({ input: { boxId, id: emailId } }), updated);
        await queryClient.invalidateQueries({ queryKey: orpc.email.list.key() });
      },
    }),
  );

  useEffect(() => {
    backRef.current?.focus();
  }, []);

  const data = email.data;

  return (
    <Card data-testid="email-detail">
      <CardHeader className="flex flex-wrap items-center justify-between gap-2">
        <Button ref={backRef} variant="outline" size="sm" onClick={onBack} data-testid="email-back">
          <ArrowLeftIcon aria-hidden /> All email
        </Button>
        {data?.status === "failed" ? (
          <Button
            size="sm"
            onClick={() => retry.mutate({ boxId, id: data.id })}
            disabled={retry.isPending}
            data-testid="email-retry"
          >
            <RotateCcwIcon aria-hidden />
            {retry.isPending
              ? "Retrying…"
              : data.direction === "inbound"
                ? "Retry delivery"
                : "Retry sending"}
          </Button>
        ) : null}
      </CardHeader>
      <CardContent className="grid min-w-0 gap-4">
        {email.isError ? (
          <ErrorState
            title="Could not load this email"
            error={email.error}
            onRetry={() => email.refetch()}
            testId="email-detail-error"
          />
        ) : null}
        {email.isPending ? <LoadingState label="Loading the email…" testId="email-detail-loading" /> : null}
        {data ? (
          <>
            <h2
              className="flex flex-wrap items-center gap-2 text-lg font-semibold break-words"
              data-testid="email-detail-subject"
            >
              <span className="sr-only">{data.direction === "inbound" ? "Received: " : "Sent: "}</span>
              {data.subject || "(no subject)"} <EmailStatusBadge status={data.status} />
            </h2>
            <div role="status" aria-live="polite">
              {retry.isSuccess ? (
                <p className="text-sm text-muted-foreground" data-testid="email-retried">
                  Queued again; the status updates as the retry runs.
                </p>
              ) : null}
            </div>
            {retry.isError ? (
              <p className="text-sm text-destructive" role="alert" data-testid="email-retry-error">
                Retry failed: {errorMessage(retry.error)}
              </p>
            ) : null}
            {data.errorMessage ? (
              <Alert variant="destructive" data-testid="email-detail-error-message">
                <AlertDescription className="text-destructive">{data.errorMessage}</AlertDescription>
              </Alert>
            ) : null}
            {data.untrustedSender ? (
              <Alert variant="warning" role="note" data-testid="email-untrusted">
                <AlertDescription>{untrustedNote(data)}</AlertDescription>
              </Alert>
            ) : null}
            <EmailHeaders email={data} boxId={boxId} />
            {data.attachments.length > 0 ? <Attachments email={data} boxId={boxId} /> : null}
            <EmailBody email={data} />
          </>
        ) : null}
      </CardContent>
    </Card>
  );
}
