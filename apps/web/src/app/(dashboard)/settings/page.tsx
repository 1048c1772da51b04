import type { Metadata } from "next";
import Link from "next/link";
import { CredentialsPanel } from "@/components/credentials-panel";
import { requireSession } from "@/lib/server-api";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  await requireSession("/settings");
  return (
    <div className="grid grid-cols-1 gap-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">Settings</h1>
        <p className="text-muted-foreground">
          Credentials shared by all of your boxes. Spend and monthly caps are under{" "}
          <Link
            href="/settings/usage"
            className="font-medium text-primary underline-offset-4 hover:underline"
          >
            Usage
          </Link>
          .
        </p>
      </div>
      <CredentialsPanel />
    </div>
  );
}
