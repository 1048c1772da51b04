"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { boxesApi, isUnauthorized } from "@/lib/api-client";
import { errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { ConfirmDialog } from "./confirm-dialog";

interface BoxActionsProps {
  box: Box;
  /** Called with the box as the API returned it after a redeploy or delete. */
  onChange: (box: Box) => void;
}

export function BoxActions({ box, onChange }: BoxActionsProps) {
  const router = useRouter();
  const [redeploying, setRedeploying] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [confirmOpen, setConfirmOpen] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  // A teardown that gave up leaves the box `deleting` with the reason; deleting again starts it over.
  const teardownFailed = box.status === "deleting" && box.errorMessage !== null;
  const deletingAlready = box.status === "deleting" && !teardownFailed;

  async function redeploy() {
    setRedeploying(true);
    setActionError(null);
    try {
      onChange(await boxesApi.redeploy(box.id));
    } catch (error) {
      if (isUnauthorized(error)) {
        router.replace("/sign-in");
        return;
      }
      setActionError(`Redeploy failed: ${errorMessage(error)}`);
    } finally {
      setRedeploying(false);
    }
  }

  async function confirmDelete() {
    setDeleting(true);
    setDeleteError(null);
    try {
      const updated = await boxesApi.remove(box.id);
      setConfirmOpen(false);
      onChange(updated);
    } catch (error) {
      if (isUnauthorized(error)) {
        router.replace("/sign-in");
        return;
      }
      setDeleteError(errorMessage(error));
    } finally {
      setDeleting(false);
    }
  }

  return (
    <div className="box-actions">
      <div className="button-row">
        <button
          type="button"
          className="button"
          onClick={redeploy}
          disabled={redeploying || box.status === "deleting"}
          data-testid="box-redeploy"
          aria-label={`Redeploy ${box.name}`}
        >
          {redeploying ? "Redeploying…" : "Redeploy"}
        </button>
        <button
          type="button"
          className="button button-danger-outline"
          onClick={() => {
            setDeleteError(null);
            setConfirmOpen(true);
          }}
          disabled={deletingAlready}
          data-testid="box-delete"
          aria-label={`Delete ${box.name}`}
        >
          {teardownFailed ? "Delete again" : "Delete"}
        </button>
      </div>
      {actionError ? (
        <p className="form-error" role="alert">
          {actionError}
        </p>
      ) : null}
      <ConfirmDialog
        open={confirmOpen}
        title={`Delete “${box.name}”?`}
        confirmLabel="Delete box"
        busy={deleting}
        error={deleteError}
        onConfirm={confirmDelete}
        onCancel={() => setConfirmOpen(false)}
      >
        <p>
          Its sandbox, files, sessions and cronjobs are removed, and <strong>{box.email}</strong> stops
          receiving mail. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
