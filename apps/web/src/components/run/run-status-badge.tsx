import { Badge } from "@/components/ui/badge";
import { isLiveRun, RUN_STATUS_LABELS, type RunStatus } from "@/lib/runs";

const VARIANT: Record<RunStatus, "secondary" | "warning" | "success" | "destructive" | "outline"> = {
  queued: "secondary",
  running: "warning",
  completed: "success",
  failed: "destructive",
  cancelled: "outline",
  interrupted: "destructive",
};

export function RunStatusBadge({ status }: { status: RunStatus }) {
  const live = isLiveRun(status);
  return (
    <Badge
      variant={VARIANT[status]}
      data-testid="run-status"
      data-status={status}
      aria-busy={live || undefined}
    >
      <span
        className={
          live ? "size-1.5 animate-pulse rounded-full bg-current" : "size-1.5 rounded-full bg-current"
        }
        aria-hidden
      />
      {RUN_STATUS_LABELS[status]}
    </Badge>
  );
}
