"use client";

import type { Box } from "@/lib/box";
import { CopyButton } from "../copy-button";
import { RelativeTime } from "../relative-time";
import { StatusBadge } from "../status-badge";
import { DeployTimeline } from "./deploy-timeline";

export function OverviewPanel({ box }: { box: Box }) {
  return (
    <div className="stack">
      <section className="card" aria-labelledby="box-overview-title">
        <h2 id="box-overview-title" className="card-title">
          Overview
        </h2>
        <dl className="detail-list">
          <div className="detail-wide">
            <dt>Email address</dt>
            <dd className="copy-row">
              <code data-testid="overview-email">{box.email}</code>
              <CopyButton value={box.email} label="Copy the box's email address" testId="copy-email" />
            </dd>
            <dd className="muted small detail-hint">
              Mail sent here wakes the box; its replies come from this address.
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={box.status} />
            </dd>
          </div>
          <div>
            <dt>Subdomain</dt>
            <dd>
              <code>{box.subdomain}</code>
            </dd>
          </div>
          <div>
            <dt>Sandbox URL</dt>
            <dd>
              {box.spriteUrl ? (
                <a href={box.spriteUrl} target="_blank" rel="noreferrer noopener">
                  {box.spriteUrl}
                </a>
              ) : (
                <span className="muted">Not deployed yet</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Skills</dt>
            <dd>
              {box.skills.length > 0 ? (
                <ul className="tag-list">
                  {box.skills.map((skill) => (
                    <li key={skill} className="tag">
                      {skill}
                    </li>
                  ))}
                </ul>
              ) : (
                <span className="muted">None</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Box ID</dt>
            <dd>
              <code>{box.id}</code>
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <RelativeTime iso={box.createdAt} />
            </dd>
          </div>
          <div>
            <dt>Last updated</dt>
            <dd>
              <RelativeTime iso={box.updatedAt} />
            </dd>
          </div>
        </dl>
      </section>
      <DeployTimeline boxId={box.id} status={box.status} boxUpdatedAt={box.updatedAt} />
    </div>
  );
}
