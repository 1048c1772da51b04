import type { RunEvent } from "@vps-claude/contract/box-agent";

export interface RunEventListener {
  event(event: RunEvent): void;
  /** No more events will come through this hub (the daemon is stopping); the listener should end. */
  close(): void;
}

/**
 * Hands a run's events, once stored, to whoever follows the run live (the SSE streams). In-process
 * only: the store is the record, this is just the doorbell.
 */
export class RunEventHub {
  private readonly listeners = new Map<string, Set<RunEventListener>>();
  private closed = false;

  /** Listens to one run's events; call the returned function to stop. */
  subscribe(runId: string, listener: RunEventListener): () => void {
    if (this.closed) {
      listener.close();
      return () => undefined;
    }
    let set = this.listeners.get(runId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(runId);
      current?.delete(listener);
      if (current?.size === 0) {
        this.listeners.delete(runId);
      }
    };
  }

  publish(runId: string, event: RunEvent): void {
    for (const listener of [...(this.listeners.get(runId) ?? [])]) {
      listener.event(event);
    }
  }

  /** How many listeners follow a run (streams that went away must not stay counted). */
  listenerCount(runId: string): number {
    return this.listeners.get(runId)?.size ?? 0;
  }

  /** Ends every listener, e.g. the streams of runs still queued when the daemon stops. */
  close(): void {
    this.closed = true;
    const all = [...this.listeners.values()].flatMap((set) => [...set]);
    this.listeners.clear();
    for (const listener of all) {
      listener.close();
    }
  }
}
