import type { Metadata } from "next";
import { UsageDashboard } from "@/components/usage/usage-dashboard";
import { requireSession } from "@/lib/server-api";

export const metadata: Metadata = { title: "Usage" };

/** Under Settings, where the budget message Claude shows sends the owner ("raise it in Settings → Usage"). */
export default async function UsagePage() {
  await requireSession("/settings/usage");
  return <UsageDashboard />;
}
