import type { Metadata } from "next";
import { unstable_rethrow } from "next/navigation";
import { BoxesDashboard } from "@/components/boxes-dashboard";
import type { Box } from "@/lib/box";
import { fetchBoxes, requireSession } from "@/lib/server-api";

export const metadata: Metadata = { title: "Boxes" };

export default async function BoxesPage() {
  await requireSession("/");
  let boxes: Box[] | null = null;
  try {
    boxes = await fetchBoxes();
  } catch (error) {
    // The page still renders: the list loads again in the browser and shows its own error there.
    unstable_rethrow(error);
  }
  return <BoxesDashboard initialBoxes={boxes} />;
}
