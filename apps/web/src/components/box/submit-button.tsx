import type { ReactNode } from "react";
import { Button } from "@/components/ui/button";

interface SubmitButtonProps {
  /** The mutation is on its way: the button says so and cannot send twice. */
  pending: boolean;
  /** E.g. nothing changed yet. */
  disabled?: boolean;
  pendingLabel?: string;
  testId?: string;
  children: ReactNode;
}

export function SubmitButton({
  pending,
  disabled = false,
  pendingLabel = "Saving…",
  testId,
  children,
}: SubmitButtonProps) {
  return (
    <Button type="submit" disabled={pending || disabled} data-testid={testId}>
      {pending ? pendingLabel : children}
    </Button>
  );
}
