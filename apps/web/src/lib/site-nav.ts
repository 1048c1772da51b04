export const NAV = [
  { href: "/", label: "Boxes", testId: "nav-boxes" },
  { href: "/settings/usage", label: "Usage", testId: "nav-usage" },
  { href: "/settings", label: "Settings", testId: "nav-settings" },
] as const;

/** The section a path belongs to: the longest nav link it starts with (Usage lives under Settings). */
export function currentSection(pathname: string): string {
  const matches = NAV.filter(({ href }) =>
    href === "/" ? pathname === "/" || pathname.startsWith("/boxes") : pathname.startsWith(href),
  );
  return matches.reduce((best, item) => (item.href.length > best.length ? item.href : best), "");
}
