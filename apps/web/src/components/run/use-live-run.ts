"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { orpc } from "@/lib/orpc";
import { followRun, type StreamConnection } from "@/lib/run-stream";
import { applyRunEvent, finishRun, isLiveRun, lastSeq, type RunDetail } from "@/lib/runs";

export type LiveConnection = StreamConnection | "idle" | "lost";

/**
 * A run and its transcript, kept current while it works: read once (`run.get`), then its stream's
 * events are appended to that same query's data as they arrive, and its end sets the final figures.
 * Every view of the run (the run page, the chat) reads the one cache entry.
 */
export function useLiveRun(boxId: string, runId: string) {
  const queryClient = useQueryClient();
  const query = useQuery({
    ...orpc.run.get.queryOptions({ input: { boxId, runId } }),
    // While the stream feeds the data, a refetch could only race it.
    staleTime: (current) =>
      current.state.data && isLiveRun(current.state.data.status) ? Number.POSITIVE_INFINITY : 5_000,
  });
  const live = query.data ? isLiveRun(query.data.status) : false;
  const [connection, setConnection] = useState<LiveConnection>("idle");
  const [streamError, setStreamError] = useState<unknown>(null);

  useEffect(() => {
    if (!live) {
      return;
    }
    const abort = new AbortController();
    const queryKey = orpc.run.get.queryKey({ input: { boxId, runId } });
    const update = (change: (run: RunDetail) => RunDetail) =>
      queryClient.setQueryData(queryKey, (current) => (current ? change(current) : current));
    setStreamError(null);
    followRun({
      boxId,
      runId,
      afterSeq: lastSeq(queryClient.getQueryData(queryKey)),
      signal: abort.signal,
      onEvent: (event) => update((run) => applyRunEvent(run, event)),
      onConnection: setConnection,
    })
      .then(async (finished) => {
        update((run) => finishRun(run, finished));
        setConnection("idle");
        // The list, the chat's conversations and this run's stored transcript all changed.
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: orpc.run.key() }),
          queryClient.invalidateQueries({ queryKey: orpc.session.key() }),
        ]);
      })
      .catch((error: unknown) => {
        if (!abort.signal.aborted) {
          setConnection("lost");
          setStreamError(error);
        }
      });
    return () => abort.abort();
  }, [live, boxId, runId, queryClient]);

  return { query, run: query.data, connection, streamError };
}
