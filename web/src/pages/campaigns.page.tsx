import { Anchor, Button, Card, Container, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useMemo, useState } from "react";
import { useQuery } from "urql";
import { Link } from "wouter";
import { LoadMore } from "../components/load-more.js";
import { Loading } from "../components/loading.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { NewCampaignDialog } from "../dialogs/new-campaign.dialog.js";
import { formatPrice } from "../format.js";
import { CampaignListDocument } from "../gql/graphql.js";
import { usePagedList } from "../state/use-paged-list.js";

const PAGE_SIZE = 24;

export function CampaignsPage() {
  const [creating, setCreating] = useState(false);
  const pages = usePagedList();
  return (
    <Container size="lg">
      <Stack>
        <Group justify="space-between">
          <Title order={1}>Campaigns</Title>
          <Button onClick={() => setCreating(true)}>New campaign</Button>
        </Group>
        {pages.cursors.map((after, i) => (
          <CampaignListPage
            key={after ?? "first"}
            after={after}
            onMore={i === pages.cursors.length - 1 ? pages.more : undefined}
          />
        ))}
      </Stack>
      <NewCampaignDialog opened={creating} onClose={() => setCreating(false)} />
    </Container>
  );
}

function CampaignListPage(props: { after: string | null; onMore?: (cursor: string) => void }) {
  // An empty first page holds no Campaign: name the type so a created campaign still refreshes it.
  const context = useMemo(() => ({ additionalTypenames: ["Campaign"] }), []);
  const [{ data, error, fetching }] = useQuery({
    query: CampaignListDocument,
    variables: { first: PAGE_SIZE, after: props.after },
    context,
  });
  if (error) return <ProblemAlert error={error} />;
  if (!data) return fetching ? <Loading label="Loading campaigns" /> : null;
  const { edges, pageInfo } = data.campaigns;
  if (edges.length === 0 && props.after === null) {
    return <Text>No campaigns yet. Press “New campaign” to add a property.</Text>;
  }
  return (
    <>
      <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }}>
        {edges.map(({ node }) => (
          <Card key={node.id} withBorder>
            <Anchor component={Link} href={`/campaigns/${node.id}`} fw={600}>
              {node.name}
            </Anchor>
            {node.address && <Text size="sm">{node.address}</Text>}
            <Text size="sm">
              {[
                formatPrice(node.price, node.currency),
                node.bedrooms !== null ? `${node.bedrooms} bd` : null,
                node.bathrooms !== null ? `${node.bathrooms} ba` : null,
              ]
                .filter(Boolean)
                .join(" · ")}
            </Text>
          </Card>
        ))}
      </SimpleGrid>
      <LoadMore pageInfo={pageInfo} onMore={props.onMore} label="More campaigns" />
    </>
  );
}
