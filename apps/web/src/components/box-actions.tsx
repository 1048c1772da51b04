"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { orpc } from "@/lib/orpc";
import { ConfirmDialog } from "./confirm-dialog";

/** Redeploy and delete, for a box card or a box page; both refresh every view of the box. */
export function BoxActions({ box, onChange }: { box: Box; onChange?: (box: Box) => void }) {
  const queryClient = useQueryClient();
  const [confirmOpen, setConfirmOpen] = useState(false);
  const changed = async (updated: Box) => {
    onChange?.(updated);
    await queryClient.invalidateQueries({ queryKey: orpc.box.key() });
  };

  const redeploy = useMutation(orpc.box.redeploy.mutationOptions({ onSuccess: changed }));
  const remove = useMutation(
    orpc.box.delete.mutationOptions({
      onSuccess: async (updated) => {
        setConfirmOpen(false);
        await changed(updated);
      },
    }),
  );

  // A teardown that gave up leaves the box `deleting` with the reason; deleting again starts it over.
  const teardownFailed = box.status === "deleting" && box.errorMessage !== null;
  const deletingAlready = box.status === "deleting" && !teardownFailed;

  return (
    <div className="flex flex-col items-start gap-2 sm:items-end">
      <div className="flex gap-2">
        <Button
          variant="outline"
          size="sm"
          onClick={() => redeploy.mutate({ id: box.id })}
          disabled={redeploy.isPending || box.status === "deleting"}
          data-testid="box-redeploy"
          aria-label={`Redeploy ${box.name}`}
        >
          {redeploy.isPending ? "Redeploying…" : "Redeploy"}
        </Button>
        <Button
          variant="outline"
          size="sm"
          className="border-destructive/40 text-destructive hover:bg-destructive/10 hover:text-destructive"
          onClick={() => {
            remove.reset();
            setConfirmOpen(true);
          }}
          disabled={deletingAlready}
          data-testid="box-delete"
          aria-label={`Delete ${box.name}`}
        >
          {teardownFailed ? "Delete again" : "Delete"}
        </Button>
      </div>
      {redeploy.error ? (
        <p className="text-sm text-destructive" role="alert">
          Redeploy failed: {errorMessage(redeploy.error)}
        </p>
      ) : null}
      <ConfirmDialog
        open={confirmOpen}
        title={`Delete “${box.name}”?`}
        confirmLabel="Delete box"
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => remove.mutate({ id: box.id })}
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
