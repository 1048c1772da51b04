"use client";

import { useEffect, useRef } from "react";

/**
 * Calls `poll` every `intervalMs` while `intervalMs` is not null, waiting for each call to finish
 * before scheduling the next, and pausing while the tab is hidden.
 */
export function usePolling(poll: () => Promise<void>, intervalMs: number | null): void {
  const pollRef = useRef(poll);
  useEffect(() => {
    pollRef.current = poll;
  });

  useEffect(() => {
    if (intervalMs === null) {
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const schedule = () => {
      timer = setTimeout(async () => {
        if (document.visibilityState === "visible") {
          await pollRef.current().catch(() => undefined);
        }
        if (!stopped) {
          schedule();
        }
      }, intervalMs);
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [intervalMs]);
}
