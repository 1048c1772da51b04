/** What the fake model and the bare page say, shared by both sides and main.ts (no side effects here). */

/** What main.ts tells the fake: how many model turns a run takes, how long each takes, and a first pause. */
export interface FakeModelSpec {
  turns: number;
  paceMs: number;
  /** Before a run's first answer: time for the run page to load and open its stream. */
  firstTurnDelayMs: number;
}

export type FakeModelMessage = { type: "ready"; url: string };

/** The text of step `step`; `[#n]` is what the pages look for to time when it is painted. */
export function stepText(step: number, turns: number): string {
  return `Step ${step} of ${turns} [#${step}]: looking at the inbox again.`;
}

export const STEP_MARKER = /\[#(\d+)\]/;
