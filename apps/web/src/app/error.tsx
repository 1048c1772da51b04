"use client";

export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="container auth-main">
      <section className="card empty-state" role="alert">
        <h1 className="card-title">Something went wrong</h1>
        <p className="muted">
          The page could not be shown. Try again; if it keeps failing, check the server logs.
        </p>
        <button type="button" className="button button-primary" onClick={reset}>
          Try again
        </button>
      </section>
    </main>
  );
}
