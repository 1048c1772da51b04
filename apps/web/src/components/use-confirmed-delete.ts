"use client";

import { useState } from "react";
import { errorMessage } from "@/lib/api-error";
import { useAuthRedirect } from "./use-auth-redirect";

export interface ConfirmedDelete {
  /** Opens the confirmation, clearing the error of an earlier attempt. */
  ask: () => void;
  /** Spread into a ConfirmDialog. */
  dialog: {
    open: boolean;
    busy: boolean;
    error: string | null;
    onConfirm: () => Promise<void>;
    onCancel: () => void;
  };
}

/**
 * The state behind a "Delete" button and its ConfirmDialog. `onDelete` asks the server (its answer is not
 * used); when it throws, the dialog stays open with the error.
 */
export function useConfirmedDelete(onDelete: () => Promise<unknown>, onDeleted: () => void): ConfirmedDelete {
  const handleAuth = useAuthRedirect();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onConfirm() {
    setBusy(true);
    setError(null);
    try {
      await onDelete();
      setOpen(false);
      onDeleted();
    } catch (caught) {
      if (!handleAuth(caught)) {
        setError(errorMessage(caught));
      }
    } finally {
      setBusy(false);
    }
  }

  return {
    ask: () => {
      setError(null);
      setOpen(true);
    },
    dialog: { open, busy, error, onConfirm, onCancel: () => setOpen(false) },
  };
}
