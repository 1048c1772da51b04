import type { Metadata } from "next";
import { CredentialsPanel } from "@/components/credentials-panel";
import { requireSession } from "@/lib/server-api";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  await requireSession("/settings");
  return (
    <div className="stack">
      <div className="page-heading">
        <div>
          <h1>Settings</h1>
          <p className="muted">Credentials shared by all of your boxes.</p>
        </div>
      </div>
      <CredentialsPanel />
    </div>
  );
}
