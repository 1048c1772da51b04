import type { ReactNode } from "react";

interface SubmitButtonProps {
  busy: boolean;
  /** Shown while `busy`. */
  busyLabel?: string;
  children: ReactNode;
  disabled?: boolean;
  className?: string;
  testId?: string;
}

export function SubmitButton({
  busy,
  busyLabel = "Saving…",
  children,
  disabled = false,
  className = "button button-primary",
  testId,
}: SubmitButtonProps) {
  return (
    <button type="submit" className={className} disabled={busy || disabled} data-testid={testId}>
      {busy ? busyLabel : children}
    </button>
  );
}

/** Leaves a form without saving; disabled while it saves, so the edit cannot vanish under a request. */
export function CancelButton({ onCancel, disabled }: { onCancel: () => void; disabled: boolean }) {
  return (
    <button type="button" className="button" onClick={onCancel} disabled={disabled}>
      Cancel
    </button>
  );
}
