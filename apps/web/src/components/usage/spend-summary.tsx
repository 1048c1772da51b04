import { formatUsd } from "@/lib/usage";
import type { UserBudget } from "@/lib/usage-api";

/** Where the cap that applies comes from, in words. */
function capSource(budget: UserBudget): string {
  const { monthlyUsd, defaultMonthlyUsd, effectiveMonthlyUsd } = budget;
  if (effectiveMonthlyUsd === null) {
    return "No cap: runs are not stopped by spend. Set one below.";
  }
  if (monthlyUsd !== null && monthlyUsd === effectiveMonthlyUsd) {
    return "Your own cap. Runs stop when the month's spend reaches it.";
  }
  return `The platform's default cap${defaultMonthlyUsd === null ? "" : ` (${formatUsd(defaultMonthlyUsd)})`}. You may set a lower one below.`;
}

/** This month's spend against the cap that applies, as numbers and as a bar. */
export function SpendSummary({ budget }: { budget: UserBudget }) {
  const cap = budget.effectiveMonthlyUsd;

  return (
    <section className="card" aria-labelledby="spend-title" data-testid="usage-spend">
      <h2 id="spend-title" className="card-title">
        This month
      </h2>
      <p className="muted small">{budget.period} (UTC), known costs only</p>
      <p className="spend-figure">
        <strong data-testid="spend-spent" data-value={budget.spentUsd}>
          {formatUsd(budget.spentUsd)}
        </strong>{" "}
        <span className="muted">of</span>{" "}
        <span data-testid="spend-cap" data-value={cap ?? ""}>
          {cap === null ? "no cap" : formatUsd(cap)}
        </span>
      </p>
      {cap === null ? null : (
        // Native semantics: below 80 % is good, from 80 % a warning, at the cap the worst (a value
        // equal to `high` still counts as a warning, hence just under the cap).
        <meter
          className="spend-meter"
          min={0}
          max={Math.max(cap, Number.EPSILON)}
          low={cap * 0.8}
          high={cap * 0.9999}
          optimum={0}
          value={Math.min(budget.spentUsd, cap)}
          aria-label="This month's spend against your cap"
          aria-valuetext={`${formatUsd(budget.spentUsd)} of ${formatUsd(cap)}`}
          data-testid="spend-meter"
        >
          {formatUsd(budget.spentUsd)} of {formatUsd(cap)}
        </meter>
      )}
      <p className="muted small spend-source">{capSource(budget)}</p>
    </section>
  );
}
