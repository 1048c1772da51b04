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
