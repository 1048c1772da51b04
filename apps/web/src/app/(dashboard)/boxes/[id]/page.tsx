import type { Metadata } from "next";
import { notFound, unstable_rethrow } from "next/navigation";
import { BoxDetail } from "@/components/box-detail";
import { ServerUnavailable } from "@/components/server-unavailable";
import { errorMessage } from "@/lib/api-error";
import type { Box } from "@/lib/box";
import { parseBoxTab } from "@/lib/box-tabs";
import { fetchBox, requireSession } from "@/lib/server-api";

interface BoxPageProps {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export async function generateMetadata({ params }: BoxPageProps): Promise<Metadata> {
  const { id } = await params;
  const box = await fetchBox(id).catch(() => null);
  return { title: box?.name ?? "Box" };
}

export default async function BoxPage({ params, searchParams }: BoxPageProps) {
  const { id } = await params;
  const { tab } = await searchParams;
  await requireSession(`/boxes/${encodeURIComponent(id)}`);
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
  return <BoxDetail initialBox={box} initialTab={parseBoxTab(tab)} />;
}
