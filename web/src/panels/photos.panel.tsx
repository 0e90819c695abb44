import { Stack, Text } from "@mantine/core";
import { LoadMore } from "../components/load-more.js";
import { Loading } from "../components/loading.js";
import { PhotoCard } from "../components/photo-card.js";
import { PlainList } from "../components/plain-list.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { CampaignAssetsDocument } from "../gql/graphql.js";
import { usePagedList } from "../state/use-paged-list.js";
import { useRefreshingQuery } from "../state/use-refreshing-query.js";
import { Panel } from "./panel.js";
import { PhotoImport } from "./photo-import.js";
import { PhotoUpload } from "./photo-upload.js";

export const PHOTO_PAGE_SIZE = 100;

/** Upload, import and the grid of the campaign's photos. */
export function PhotosPanel({ campaignId }: { campaignId: string }) {
  const pages = usePagedList();
  return (
    <Panel title="Photos">
      <PhotoUpload campaignId={campaignId} onUploaded={pages.reload} />
      <PhotoImport campaignId={campaignId} onImported={pages.reload} />
      {pages.cursors.map((after, i) => (
        <PhotoGridPage
          key={after ?? "first"}
          campaignId={campaignId}
          after={after}
          refresh={pages.refresh}
          onChanged={pages.reload}
          onMore={i === pages.cursors.length - 1 ? pages.more : undefined}
        />
      ))}
    </Panel>
  );
}

function PhotoGridPage(props: {
  campaignId: string;
  after: string | null;
  refresh: number;
  onChanged(): void;
  onMore?: (cursor: string) => void;
}) {
  const variables = { campaignId: props.campaignId, first: PHOTO_PAGE_SIZE, after: props.after };
  const [{ data, error, fetching }] = useRefreshingQuery(CampaignAssetsDocument, variables, props.refresh, [
    "Asset",
  ]);
  if (error) return <ProblemAlert error={error} />;
  if (!data) return fetching ? <Loading label="Loading photos" /> : null;
  const { edges, pageInfo } = data.campaign.assets;
  if (edges.length === 0 && props.after === null) {
    return <Text>No photos yet: add the listing's photos above.</Text>;
  }
  return (
    <Stack>
      <PlainList label="Campaign photos" grid={180}>
        {edges.map(({ node }) => (
          <li key={node.id}>
            <PhotoCard asset={node} onDeleted={props.onChanged} />
          </li>
        ))}
      </PlainList>
      <LoadMore pageInfo={pageInfo} onMore={props.onMore} label="More photos" />
    </Stack>
  );
}
