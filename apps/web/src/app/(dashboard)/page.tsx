import type { Metadata } from "next";
import { unstable_rethrow } from "next/navigation";
import { BoxesDashboard } from "@/components/boxes-dashboard";
import { errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { fetchBoxes, requireSession } from "@/lib/server-api";

export const metadata: Metadata = { title: "Boxes" };

export default async function BoxesPage() {
  await requireSession("/");
  let boxes: Box[] = [];
  let loadError: string | null = null;
  try {
    boxes = await fetchBoxes();
  } catch (error) {
    unstable_rethrow(error);
    loadError = errorMessage(error);
  }
  return <BoxesDashboard initialBoxes={boxes} initialError={loadError} />;
}
