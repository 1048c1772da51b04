/** A deadline in words for a reason an owner reads: "15 minutes", "90 seconds", "4 hours". */
export function describeDuration(ms: number): string {
  const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? "" : "s"}`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) {
    return plural(ms / 3_600_000, "hour");
  }
  if (ms >= 60_000 && ms % 60_000 === 0) {
    return plural(ms / 60_000, "minute");
  }
  return plural(Math.round(ms / 1000), "second");
}
