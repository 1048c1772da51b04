import type { EmailStatus } from "@/lib/box-api";

const EMAIL_STATUS_HINTS: Record<EmailStatus, string> = {
  received: "received by the platform",
  queued: "waiting to be delivered or sent",
  delivered: "handed to the box; its run has not ended yet",
  processed: "handed to the box and answered by its run",
  sent: "sent to its recipients",
  failed: "delivery or sending failed",
  rejected: "refused by the sender rules or limits",
};

export function EmailStatusBadge({ status }: { status: EmailStatus }) {
  return (
    <span
      className={`badge badge-email-${status}`}
      title={EMAIL_STATUS_HINTS[status]}
      data-testid="email-status"
      data-status={status}
    >
      {status}
    </span>
  );
}
