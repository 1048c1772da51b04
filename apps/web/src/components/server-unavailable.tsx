import { ServerCrashIcon } from "lucide-react";
import { Card, CardContent, CardDescription, CardHeader } from "@/components/ui/card";

export function ServerUnavailable({ detail }: { detail: string }) {
  return (
    <Card role="alert" data-testid="server-unavailable">
      <CardHeader>
        <h1 className="flex items-center gap-2 text-lg font-semibold text-destructive">
          <ServerCrashIcon className="size-5 shrink-0" aria-hidden />
          Something went wrong talking to the API server
        </h1>
        <CardDescription>
          Check that the server is running and that SERVER_URL points at it, then reload.
        </CardDescription>
      </CardHeader>
      <CardContent>
        <p className="text-sm break-words">{detail}</p>
      </CardContent>
    </Card>
  );
}
