import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
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

/**
 * Native semantics: below 80 % is good, from 80 % a warning, at the cap the worst (a value equal to
 * `high` still counts as a warning, hence just under the cap). The pseudo-elements take the theme's colours.
 */
const METER_STYLE = [
  "h-3 w-full appearance-none overflow-hidden rounded-full bg-muted",
  "[&::-webkit-meter-bar]:h-3 [&::-webkit-meter-bar]:rounded-full [&::-webkit-meter-bar]:border-0 [&::-webkit-meter-bar]:bg-muted",
  "[&::-webkit-meter-optimum-value]:bg-success [&::-webkit-meter-suboptimum-value]:bg-warning [&::-webkit-meter-even-less-good-value]:bg-destructive",
  "[&::-moz-meter-bar]:bg-primary",
].join(" ");

function SpendMeter({ spentUsd, capUsd }: { spentUsd: number; capUsd: number }) {
  return (
    <meter
      className={METER_STYLE}
      min={0}
      max={Math.max(capUsd, Number.EPSILON)}
      low={capUsd * 0.8}
      high={capUsd * 0.9999}
      optimum={0}
      value={Math.min(spentUsd, capUsd)}
      aria-label="This month's spend against your cap"
      aria-valuetext={`${formatUsd(spentUsd)} of ${formatUsd(capUsd)}`}
      data-testid="spend-meter"
    >
      {formatUsd(spentUsd)} of {formatUsd(capUsd)}
    </meter>
  );
}

/** This month's spend against the cap that applies, as numbers and as a bar. */
export function SpendSummary({ budget }: { budget: UserBudget }) {
  const cap = budget.effectiveMonthlyUsd;

  return (
    <Card aria-labelledby="spend-title" data-testid="usage-spend">
      <CardHeader>
        <CardTitle id="spend-title">This month</CardTitle>
        <CardDescription>{budget.period} (UTC), known costs only</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-3">
        <p className="text-lg">
          <strong className="text-2xl font-semibold" data-testid="spend-spent" data-value={budget.spentUsd}>
            {formatUsd(budget.spentUsd)}
          </strong>{" "}
          <span className="text-muted-foreground">of</span>{" "}
          <span data-testid="spend-cap" data-value={cap ?? ""}>
            {cap === null ? "no cap" : formatUsd(cap)}
          </span>
        </p>
        {cap === null ? null : <SpendMeter spentUsd={budget.spentUsd} capUsd={cap} />}
        <p className="text-sm text-muted-foreground">{capSource(budget)}</p>
      </CardContent>
    </Card>
  );
}
