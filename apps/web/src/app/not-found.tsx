import Link from "next/link";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader } from "@/components/ui/card";

export default function NotFound() {
  return (
    <main className="flex justify-center px-4 py-10 sm:py-16">
      <Card className="w-full max-w-md" data-testid="not-found">
        <CardHeader>
          <h1 className="text-xl font-semibold">Page not found</h1>
          <CardDescription>There is nothing at this address.</CardDescription>
        </CardHeader>
        <CardContent>
          <Button asChild>
            <Link href="/">Go to your boxes</Link>
          </Button>
        </CardContent>
      </Card>
    </main>
  );
}
