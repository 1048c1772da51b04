/**
 * What a test started, undone in reverse order, on close or when starting fails half-way, so nothing
 * outlives it. Every step runs even if one fails; the failures are thrown together at the end.
 */
export class Teardown {
  private readonly steps: (() => Promise<unknown> | unknown)[] = [];

  /** `what` names it in the error when steps fail. */
  constructor(private readonly what: string) {}

  push(undo: () => Promise<unknown> | unknown): void {
    this.steps.push(undo);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (let undo = this.steps.pop(); undo; undo = this.steps.pop()) {
      try {
        await undo();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) {
      throw new AggregateError(errors, `${this.what} teardown: ${errors.length} step(s) failed`);
    }
  }
}
