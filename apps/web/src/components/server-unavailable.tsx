export function ServerUnavailable({ detail }: { detail: string }) {
  return (
    <section className="card empty-state" role="alert" data-testid="server-unavailable">
      <h1 className="card-title">Something went wrong talking to the API server</h1>
      <p>{detail}</p>
      <p className="muted small">
        Check that the server is running and that SERVER_URL points at it, then reload.
      </p>
    </section>
  );
}
