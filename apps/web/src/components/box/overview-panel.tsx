"use client";

import type { ReactNode } from "react";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import type { Box } from "@/lib/box";
import { cn } from "@/lib/utils";
import { CopyButton } from "../copy-button";
import { RelativeTime } from "../relative-time";
import { DeployTimeline } from "./deploy-timeline";

function Detail({ term, wide, children }: { term: string; wide?: boolean; children: ReactNode }) {
  return (
    <div className={cn("grid min-w-0 gap-1", wide && "sm:col-span-2")}>
      <dt className="text-sm text-muted-foreground">{term}</dt>
      {children}
    </div>
  );
}

export function OverviewPanel({ box }: { box: Box }) {
  return (
    <div className="grid gap-6">
      <Card role="region" aria-labelledby="box-overview-title">
        <CardHeader>
          <CardTitle id="box-overview-title">Overview</CardTitle>
        </CardHeader>
        <CardContent>
          <dl className="grid gap-4 sm:grid-cols-2">
            <Detail term="Email address" wide>
              <dd className="flex flex-wrap items-center gap-2">
                <code className="font-mono text-sm break-all" data-testid="overview-email">
                  {box.email}
                </code>
                <CopyButton value={box.email} label="Copy the box's email address" testId="copy-email" />
              </dd>
              <dd className="text-sm text-muted-foreground">
                Mail sent here wakes the box; its replies come from this address.
              </dd>
            </Detail>
            <Detail term="Subdomain">
              <dd>
                <code className="font-mono text-sm">{box.subdomain}</code>
              </dd>
            </Detail>
            <Detail term="Sandbox URL">
              <dd className="text-sm break-all">
                {box.spriteUrl ? (
                  <a
                    href={box.spriteUrl}
                    target="_blank"
                    rel="noreferrer noopener"
                    className="text-primary underline-offset-4 hover:underline"
                  >
                    {box.spriteUrl}
                  </a>
                ) : (
                  <span className="text-muted-foreground">Not deployed yet</span>
                )}
              </dd>
            </Detail>
            <Detail term="Skills">
              <dd>
                {box.skills.length > 0 ? (
                  <ul className="flex flex-wrap gap-1">
                    {box.skills.map((skill) => (
                      <li key={skill}>
                        <Badge variant="secondary">{skill}</Badge>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <span className="text-sm text-muted-foreground">None</span>
                )}
              </dd>
            </Detail>
            <Detail term="Box ID">
              <dd>
                <code className="font-mono text-sm break-all">{box.id}</code>
              </dd>
            </Detail>
            <Detail term="Created">
              <dd className="text-sm">
                <RelativeTime iso={box.createdAt} />
              </dd>
            </Detail>
            <Detail term="Last updated">
              <dd className="text-sm">
                <RelativeTime iso={box.updatedAt} />
              </dd>
            </Detail>
          </dl>
        </CardContent>
      </Card>
      <DeployTimeline boxId={box.id} status={box.status} boxUpdatedAt={box.updatedAt} />
    </div>
  );
}
