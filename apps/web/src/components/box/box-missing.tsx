import Link from "next/link";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader } from "@/components/ui/card";

/** A box page without its box: never there, someone else's, or deleted meanwhile. */
export function BoxMissing({ title, reason, testId }: { title: string; reason: string; testId: string }) {
  return (
    <Card data-testid={testId}>
      <CardHeader>
        <h1 className="leading-none font-semibold">{title}</h1>
        <CardDescription>{reason}</CardDescription>
      </CardHeader>
      <CardContent>
        <Button asChild>
          <Link href="/">Back to your boxes</Link>
        </Button>
      </CardContent>
    </Card>
  );
}
