"use client";

import { AlertCircleIcon, Loader2Icon } from "lucide-react";
import { type ReactNode, useState } from "react";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api-error";

export function LoadingState({ label, testId }: { label: string; testId?: string }) {
  return (
    <div
      className="flex items-center gap-2 py-6 text-sm text-muted-foreground"
      role="status"
      aria-live="polite"
      data-testid={testId}
    >
      <Loader2Icon className="size-4 animate-spin" aria-hidden />
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
    <div className="grid gap-1 rounded-lg border border-dashed p-6 text-center" data-testid={testId}>
      <p className="font-medium">{title}</p>
      {children ? <div className="text-sm text-muted-foreground">{children}</div> : null}
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
  onRetry?: () => Promise<unknown>;
  testId?: string;
}) {
  const [retrying, setRetrying] = useState(false);
  return (
    <Alert variant="destructive" data-testid={testId}>
      <AlertCircleIcon aria-hidden />
      <AlertDescription className="flex flex-wrap items-center justify-between gap-2 text-destructive">
        <span>
          {title}: {errorMessage(error)}
        </span>
        {onRetry ? (
          <Button
            variant="outline"
            size="sm"
            // Its own text colour: inherited from the alert, it would be red on the button's own background.
            className="text-foreground"
            disabled={retrying}
            onClick={async () => {
              setRetrying(true);
              await onRetry().catch(() => undefined);
              setRetrying(false);
            }}
          >
            {retrying ? "Retrying…" : "Retry"}
          </Button>
        ) : null}
      </AlertDescription>
    </Alert>
  );
}
