import { type BoxStatus, isTransitional, STATUS_LABELS } from "@/lib/box";

export function StatusBadge({ status }: { status: BoxStatus }) {
  return (
    <span
      className={`status-badge status-${status}`}
      data-testid="box-status"
      data-status={status}
      aria-busy={isTransitional(status) || undefined}
    >
      <span className="status-dot" aria-hidden="true" />
      {STATUS_LABELS[status] ?? status}
    </span>
  );
}
