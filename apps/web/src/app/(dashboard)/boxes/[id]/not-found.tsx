import Link from "next/link";

export default function BoxNotFound() {
  return (
    <section className="card empty-state" data-testid="box-not-found">
      <h1 className="card-title">Box not found</h1>
      <p className="muted">It may have been deleted, or it belongs to another account.</p>
      <Link href="/" className="button button-primary">
        Back to your boxes
      </Link>
    </section>
  );
}
