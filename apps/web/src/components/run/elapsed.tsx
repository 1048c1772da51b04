"use client";

import { useEffect, useState } from "react";
import { formatDuration } from "@/lib/format";

/** Time since `since` (ISO), ticking each second: how long a run has been working so far. */
export function Elapsed({ since }: { since: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return <>{formatDuration(Math.max(0, now - Date.parse(since)))}</>;
}
