import { Button } from "@mantine/core";

/** The "next page" button under a cursor-paged list. */
export function LoadMore(props: {
  hasNextPage: boolean;
  endCursor: string | null;
  onMore(cursor: string): void;
  label: string;
}) {
  if (!props.hasNextPage || !props.endCursor) return null;
  const cursor = props.endCursor;
  return (
    <Button variant="default" onClick={() => props.onMore(cursor)}>
      {props.label}
    </Button>
  );
}
