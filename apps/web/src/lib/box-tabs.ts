export const BOX_TABS = ["overview", "chat", "files", "email", "cronjobs", "env", "agent"] as const;
export type BoxTab = (typeof BOX_TABS)[number];

export const BOX_TAB_LABELS: Record<BoxTab, string> = {
  overview: "Overview",
  chat: "Chat",
  files: "Files",
  email: "Email",
  cronjobs: "Cronjobs",
  env: "Env vars",
  agent: "Agent config",
};

/** `?tab=` from the URL, or the overview for anything unknown. */
export function parseBoxTab(value: string | string[] | undefined): BoxTab {
  const raw = Array.isArray(value) ? value[0] : value;
  return BOX_TABS.find((tab) => tab === raw) ?? "overview";
}
