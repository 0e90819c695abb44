import { Loader } from "@mantine/core";

/**
 * A loading indicator with a name: a status (Mantine's `Loader` is a plain `span`, on which an
 * `aria-label` alone is prohibited ARIA — axe-core reports it).
 */
export function Loading({ label }: { label: string }) {
  return <Loader role="status" aria-label={label} />;
}
