import { print } from "./output";

/** What a start step leaves behind: a child process, an infrastructure service, the run lock. */
export type CleanupKind = "process" | "infrastructure" | "lock";

interface Cleanup {
  name: string;
  kind: CleanupKind;
  run(): Promise<void>;
}

/**
 * Undoes the start steps, newest first. Neighbouring entries of one kind are undone together, so the
 * services (server, web, sprites-local, builds) stop at once, then Redis and Postgres, then the lock.
 */
export class CleanupStack {
  private readonly entries: Cleanup[] = [];

  push(name: string, kind: CleanupKind, run: () => Promise<void>): void {
    this.entries.push({ name, kind, run });
  }

  async unwind(): Promise<void> {
    for (let top = this.entries.at(-1); top; top = this.entries.at(-1)) {
      let start = this.entries.length - 1;
      while (start > 0 && this.entries[start - 1]?.kind === top.kind) {
        start -= 1;
      }
      const batch = this.entries.splice(start).reverse();
      await Promise.all(
        batch.map((entry) =>
          entry.run().catch((error: unknown) => print("runner", `stopping ${entry.name}: ${error}`)),
        ),
      );
    }
  }
}
