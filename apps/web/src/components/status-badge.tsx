import { Badge } from "@/components/ui/badge";
import { type BoxStatus, isTransitional, STATUS_LABELS } from "@/lib/box";

const VARIANT: Record<BoxStatus, "secondary" | "warning" | "success" | "destructive" | "outline"> = {
  pending: "secondary",
  deploying: "warning",
  running: "success",
  error: "destructive",
  deleting: "outline",
};

export function StatusBadge({ status }: { status: BoxStatus }) {
  const busy = isTransitional(status);
  return (
    <Badge
      variant={VARIANT[status] ?? "secondary"}
      data-testid="box-status"
      data-status={status}
      aria-busy={busy || undefined}
    >
      <span
        className={
          busy ? "size-1.5 animate-pulse rounded-full bg-current" : "size-1.5 rounded-full bg-current"
        }
        aria-hidden
      />
      {STATUS_LABELS[status] ?? status}
    </Badge>
  );
}
