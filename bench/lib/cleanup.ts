import { log } from "./env";

/**
 * What a run has created, undone in reverse order at the end, after a failure, or on Ctrl-C, so
 * no database, server or Redis key outlives the benchmark.
 */
export class CleanupStack {
  private readonly steps: { label: string; undo: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  push(label: string, undo: () => Promise<unknown>): void {
    this.steps.push({ label, undo });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        try {
          await step.undo();
        } catch (err) {
          log(`cleanup '${step.label}' failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })();
    return this.running;
  }

  /**
   * On SIGINT/SIGTERM: aborts `controller` (stopping load clients before the servers they load go
   * away), runs the cleanup, then exits.
   */
  onSignals(controller: AbortController): void {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        log(`${signal}: cleaning up`);
        controller.abort(new Error(`interrupted by ${signal}`));
        void this.run().finally(() => process.exit(130));
      });
    }
  }
}
