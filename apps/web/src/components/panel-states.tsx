"use client";

import { type ReactNode, useState } from "react";
import { errorMessage } from "@/lib/api-error";

export function LoadingState({ label, testId }: { label: string; testId?: string }) {
  return (
    <div className="panel-state" role="status" aria-live="polite" data-testid={testId}>
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({
  title,
  children,
  testId,
}: {
  title: string;
  children?: ReactNode;
  testId?: string;
}) {
  return (
    <div className="panel-state panel-state-empty" data-testid={testId}>
      <p className="panel-state-title">{title}</p>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  );
}

/** A failed load: what went wrong, in the server's words, and a way to try again. */
export function ErrorState({
  title,
  error,
  onRetry,
  testId,
}: {
  title: string;
  error: unknown;
  onRetry?: () => Promise<void>;
  testId?: string;
}) {
  const [retrying, setRetrying] = useState(false);
  return (
    <div className="banner banner-error" role="alert" data-testid={testId}>
      <span>
        {title}: {errorMessage(error)}
      </span>
      {onRetry ? (
        <button
          type="button"
          className="button button-small"
          disabled={retrying}
          onClick={async () => {
            setRetrying(true);
            await onRetry();
            setRetrying(false);
          }}
        >
          {retrying ? "Retrying…" : "Retry"}
        </button>
      ) : null}
    </div>
  );
}
