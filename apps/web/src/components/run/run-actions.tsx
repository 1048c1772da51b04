"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ConfirmDialog } from "@/components/confirm-dialog";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api-error";
import { orpc } from "@/lib/orpc";
import { finishRun, isLiveRun, isRetryableRun, type RunDetail, runPagePath } from "@/lib/runs";

/** Cancel (asked once more) while the run works; Retry once it failed, was interrupted or cancelled. */
export function RunActions({ run }: { run: RunDetail }) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const [confirmOpen, setConfirmOpen] = useState(false);
  const input = { boxId: run.boxId, runId: run.id };

  const cancel = useMutation(
    orpc.run.cancel.mutationOptions({
      onSuccess: async (answered) => {
        setConfirmOpen(false);
        queryClient.setQueryData(orpc.run.get.queryKey({ input }), (current) =>
          current ? finishRun(current, answered) : current,
        );
        await queryClient.invalidateQueries({ queryKey: orpc.run.list.key() });
      },
    }),
  );
  const retry = useMutation(
    orpc.run.retry.mutationOptions({
      onSuccess: async ({ runId }) => {
        await queryClient.invalidateQueries({ queryKey: orpc.run.list.key() });
        router.push(runPagePath(run.boxId, runId));
      },
    }),
  );

  return (
    <div className="flex flex-col items-start gap-2 sm:items-end">
      <div className="flex gap-2">
        {isLiveRun(run.status) ? (
          <Button
            variant="outline"
            size="sm"
            className="border-destructive/40 text-destructive hover:bg-destructive/10 hover:text-destructive"
            onClick={() => {
              cancel.reset();
              setConfirmOpen(true);
            }}
            data-testid="run-cancel"
          >
            Cancel run
          </Button>
        ) : null}
        {isRetryableRun(run.status) ? (
          <Button
            variant="outline"
            size="sm"
            onClick={() => retry.mutate(input)}
            disabled={retry.isPending}
            data-testid="run-retry"
          >
            {retry.isPending ? "Retrying…" : "Retry"}
          </Button>
        ) : null}
      </div>
      {retry.error ? (
        <p className="text-sm text-destructive" role="alert" data-testid="run-retry-error">
          Retry failed: {errorMessage(retry.error)}
        </p>
      ) : null}
      <ConfirmDialog
        open={confirmOpen}
        title="Cancel this run?"
        confirmLabel="Yes, cancel the run"
        busy={cancel.isPending}
        error={cancel.error ? errorMessage(cancel.error) : null}
        onConfirm={() => cancel.mutate(input)}
        onCancel={() => setConfirmOpen(false)}
      >
        <p>
          Claude stops where it is. What it already did in the box stays done; you can retry the run
          afterwards.
        </p>
      </ConfirmDialog>
    </div>
  );
}
