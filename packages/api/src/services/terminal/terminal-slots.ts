/**
 * How many terminals each box has open through this API process. Each holds a shell in the box and
 * a connection to the sandbox provider, so a box gets a few, not as many as a script can open.
 * The count is per process: it bounds what one process holds, which is what it protects.
 */
export class TerminalSlots {
  private readonly open = new Map<string, number>();

  constructor(readonly perBox: number) {}

  /** Takes a slot for `boxId`: the function that gives it back (once), or null when all are taken. */
  take(boxId: string): (() => void) | null {
    const taken = this.open.get(boxId) ?? 0;
    if (taken >= this.perBox) {
      return null;
    }
    this.open.set(boxId, taken + 1);
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      const left = (this.open.get(boxId) ?? 1) - 1;
      if (left > 0) {
        this.open.set(boxId, left);
      } else {
        this.open.delete(boxId);
      }
    };
  }
}
