import type { Metadata } from "next";
import Link from "next/link";
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
          <p className="muted">
            Credentials shared by all of your boxes. Spend and monthly caps are under{" "}
            <Link href="/settings/usage">Usage</Link>.
          </p>
        </div>
      </div>
      <CredentialsPanel />
    </div>
  );
}
