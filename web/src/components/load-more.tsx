import { Button } from "@mantine/core";

/**
 * The "next page" button under a cursor-paged list: shown on the last loaded page
 * (the one given `onMore`) while the server has more.
 */
export function LoadMore(props: {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  onMore?: (cursor: string) => void;
  label: string;
}) {
  const { hasNextPage, endCursor } = props.pageInfo;
  const onMore = props.onMore;
  if (!onMore || !hasNextPage || !endCursor) return null;
  return (
    <Button variant="default" onClick={() => onMore(endCursor)}>
      {props.label}
    </Button>
  );
}
