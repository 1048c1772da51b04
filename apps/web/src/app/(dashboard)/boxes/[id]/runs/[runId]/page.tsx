import type { Metadata } from "next";
import { notFound, unstable_rethrow } from "next/navigation";
import { RunView } from "@/components/run/run-view";
import { ServerUnavailable } from "@/components/server-unavailable";
import { errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { runPagePath } from "@/lib/runs";
import { fetchBox, requireSession } from "@/lib/server-api";

interface RunPageProps {
  params: Promise<{ id: string; runId: string }>;
}

export async function generateMetadata({ params }: RunPageProps): Promise<Metadata> {
  const { id } = await params;
  const box = await fetchBox(id).catch(() => null);
  return { title: box ? `Run · ${box.name}` : "Run" };
}

export default async function RunPage({ params }: RunPageProps) {
  const { id, runId } = await params;
  await requireSession(runPagePath(id, runId));
  let box: Box | null;
  try {
    box = await fetchBox(id);
  } catch (error) {
    unstable_rethrow(error);
    return <ServerUnavailable detail={errorMessage(error)} />;
  }
  if (!box) {
    notFound();
  }
  // The run itself is read in the browser: it streams there while it works.
  return <RunView boxId={box.id} boxName={box.name} runId={runId} />;
}
