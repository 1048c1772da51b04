export const BOX_TABS = [
  "overview",
  "chat",
  "runs",
  "email",
  "cronjobs",
  "files",
  "env",
  "agent",
  "access",
  "settings",
] as const;
export type BoxTab = (typeof BOX_TABS)[number];

export const BOX_TAB_LABELS: Record<BoxTab, string> = {
  overview: "Overview",
  chat: "Chat",
  runs: "Runs",
  email: "Email",
  cronjobs: "Cronjobs",
  files: "Files",
  env: "Env vars",
  agent: "Agent config",
  access: "Access",
  settings: "Settings",
};

/** `?tab=` from the URL, or the overview for anything unknown. */
export function parseBoxTab(value: string | string[] | undefined): BoxTab {
  const raw = Array.isArray(value) ? value[0] : value;
  return BOX_TABS.find((tab) => tab === raw) ?? "overview";
}

/** The query parameter that names the item a tab opens on: `?tab=email&email=<id>`. */
export const BOX_TAB_ITEM_PARAM = { email: "email", cronjobs: "cronjob" } as const;
export type BoxTabWithItems = keyof typeof BOX_TAB_ITEM_PARAM;

/** The box page opened on one tab's item: an email's detail, a cronjob with its runs. */
export function boxItemPath(boxId: string, tab: BoxTabWithItems, itemId: string): string {
  const query = new URLSearchParams({ tab, [BOX_TAB_ITEM_PARAM[tab]]: itemId });
  return `/boxes/${encodeURIComponent(boxId)}?${query}`;
}

/**
 * Sets or removes one query parameter of the page's URL in place, so a reload or a shared link
 * comes back to the same place: no navigation and no history entry. Next's router follows the
 * change, so `useSearchParams` sees it.
 */
export function replaceSearchParam(name: string, value: string | null): void {
  const url = new URL(window.location.href);
  if (value === null) {
    url.searchParams.delete(name);
  } else {
    url.searchParams.set(name, value);
  }
  window.history.replaceState(null, "", `${url.pathname}${url.search}${url.hash}`);
}
