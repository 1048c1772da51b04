"use client";

import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader } from "@/components/ui/card";

export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="flex justify-center px-4 py-10 sm:py-16">
      <Card className="w-full max-w-md" role="alert">
        <CardHeader>
          <h1 className="text-xl font-semibold">Something went wrong</h1>
          <CardDescription>
            The page could not be shown. Try again; if it keeps failing, check the server logs.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <Button onClick={reset}>Try again</Button>
        </CardContent>
      </Card>
    </main>
  );
}
