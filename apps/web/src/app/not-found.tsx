import Link from "next/link";

export default function NotFound() {
  return (
    <main className="container auth-main">
      <section className="card empty-state">
        <h1 className="card-title">Page not found</h1>
        <p className="muted">There is nothing at this address.</p>
        <Link href="/" className="button button-primary">
          Go to your boxes
        </Link>
      </section>
    </main>
  );
}
