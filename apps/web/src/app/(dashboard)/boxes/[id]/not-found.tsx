import { BoxMissing } from "@/components/box/box-missing";

export default function BoxNotFound() {
  return (
    <BoxMissing
      title="Box not found"
      reason="It may have been deleted, or it belongs to another account."
      testId="box-not-found"
    />
  );
}
