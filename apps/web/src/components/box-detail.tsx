"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useState } from "react";
import { boxesApi, isUnauthorized } from "@/lib/api-client";
import { ApiError, errorMessage } from "@/lib/api-error";
import { type Box, isTransitional } from "@/lib/box";
import { BoxActions } from "./box-actions";
import { RelativeTime } from "./relative-time";
import { StatusBadge } from "./status-badge";
import { usePolling } from "./use-polling";

const POLL_INTERVAL_MS = 3000;

export function BoxDetail({ initialBox }: { initialBox: Box }) {
  const router = useRouter();
  const [box, setBox] = useState(initialBox);
  const [gone, setGone] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setBox(await boxesApi.get(initialBox.id));
      setLoadError(null);
    } catch (error) {
      if (isUnauthorized(error)) {
        router.replace(`/sign-in?next=${encodeURIComponent(`/boxes/${initialBox.id}`)}`);
        return;
      }
      if (error instanceof ApiError && error.status === 404) {
        setGone(true);
        return;
      }
      setLoadError(errorMessage(error));
    }
  }, [initialBox.id, router]);

  usePolling(refresh, !gone && (isTransitional(box.status) || loadError) ? POLL_INTERVAL_MS : null);

  if (gone) {
    return (
      <section className="card empty-state" data-testid="box-gone">
        <h1 className="card-title">“{box.name}” has been deleted</h1>
        <p className="muted">The box and its sandbox are gone.</p>
        <Link href="/" className="button button-primary">
          Back to your boxes
        </Link>
      </section>
    );
  }

  return (
    <div className="stack" data-testid="box-detail" data-box-id={box.id}>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Boxes</Link> <span aria-hidden="true">/</span> <span>{box.name}</span>
      </nav>

      <div className="page-heading">
        <div>
          <div className="box-card-title">
            <h1 data-testid="box-detail-name">{box.name}</h1>
            <StatusBadge status={box.status} />
          </div>
          <p className="box-address" data-testid="box-detail-email">
            {box.email}
          </p>
        </div>
        <BoxActions
          box={box}
          onChange={(updated) => {
            setBox(updated);
            if (updated.status === "deleting") {
              router.push("/");
            }
          }}
        />
      </div>

      {loadError ? (
        <div className="banner banner-error" role="alert">
          Could not refresh this box: {loadError}
        </div>
      ) : null}

      {box.status === "error" ? (
        <div className="banner banner-error banner-block" role="alert" data-testid="box-error">
          <p>
            <strong>Deployment failed</strong>
          </p>
          <p>{box.errorMessage ?? "No details were recorded."}</p>
          <p>Fix the cause, then redeploy.</p>
        </div>
      ) : null}
      {box.status === "deleting" ? (
        <div className="banner" role="status">
          This box is being deleted.
        </div>
      ) : null}

      <section className="card" aria-labelledby="box-overview-title">
        <h2 id="box-overview-title" className="card-title">
          Overview
        </h2>
        <dl className="detail-list">
          <div>
            <dt>Email address</dt>
            <dd>
              <code>{box.email}</code>
            </dd>
          </div>
          <div>
            <dt>Subdomain</dt>
            <dd>
              <code>{box.subdomain}</code>
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={box.status} />
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
    </div>
  );
}
