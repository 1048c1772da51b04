import { Badge } from "@/components/ui/badge";
import type { EmailStatus } from "@/lib/box-api";

const EMAIL_STATUS_HINTS: Record<EmailStatus, string> = {
  received: "received by the platform",
  queued: "waiting to be delivered or sent",
  delivered: "handed to the box; its run has not ended yet",
  processed: "handed to the box and answered by its run",
  sent: "sent to its recipients",
  failed: "delivery, sending or its run failed",
  rejected: "refused by the sender rules or limits",
};

const EMAIL_STATUS_VARIANTS: Record<
  EmailStatus,
  "secondary" | "warning" | "success" | "destructive" | "outline"
> = {
  received: "secondary",
  queued: "secondary",
  delivered: "warning",
  processed: "success",
  sent: "success",
  failed: "destructive",
  rejected: "outline",
};

/** Still moving on its own (delivery, sending, or the run answering it): worth watching. */
export function isEmailInProgress(status: EmailStatus): boolean {
  return status === "received" || status === "queued" || status === "delivered";
}

export function EmailStatusBadge({ status }: { status: EmailStatus }) {
  return (
    <Badge
      variant={EMAIL_STATUS_VARIANTS[status]}
      title={EMAIL_STATUS_HINTS[status]}
      aria-busy={isEmailInProgress(status) || undefined}
      data-testid="email-status"
      data-status={status}
    >
      {status}
      <span className="sr-only">: {EMAIL_STATUS_HINTS[status]}</span>
    </Badge>
  );
}
