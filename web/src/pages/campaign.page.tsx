import { Button, Container, Group, Loader, Stack, Text, Title } from "@mantine/core";
import { type ComponentType, useState } from "react";
import { useQuery } from "urql";
import { ProblemAlert } from "../components/problem-alert.js";
import { MakeVideoDialog } from "../dialogs/make-video.dialog.js";
import { formatPrice } from "../format.js";
import { CampaignDocument, type CampaignFactsFragment } from "../gql/graphql.js";
import { CampaignFactsPanel } from "../panels/campaign-facts.panel.js";
import { PhotosPanel } from "../panels/photos.panel.js";
import { VideosPanel } from "../panels/videos.panel.js";

export interface CampaignPanelProps {
  campaignId: string;
  campaign: CampaignFactsFragment;
}

/** The campaign screen, top to bottom; a new feature adds its panel here. */
const PANELS: [name: string, panel: ComponentType<CampaignPanelProps>][] = [
  ["photos", PhotosPanel],
  ["videos", VideosPanel],
  ["details", CampaignFactsPanel],
];

export function CampaignPage({ campaignId }: { campaignId: string }) {
  const [{ data, error, fetching }] = useQuery({ query: CampaignDocument, variables: { id: campaignId } });
  const [making, setMaking] = useState(false);
  if (error) return <ProblemAlert error={error} />;
  if (!data) return fetching ? <Loader aria-label="Loading the campaign" /> : null;
  const campaign = data.campaign;
  return (
    <Container size="xl">
      <Stack>
        <Group justify="space-between" align="start">
          <div>
            <Title order={1}>{campaign.name}</Title>
            <Text>
              {[campaign.address, formatPrice(campaign.price, campaign.currency)].filter(Boolean).join(" · ")}
            </Text>
          </div>
          <Button size="md" onClick={() => setMaking(true)}>
            Make video
          </Button>
        </Group>
        {PANELS.map(([name, Panel]) => (
          <Panel key={name} campaignId={campaignId} campaign={campaign} />
        ))}
      </Stack>
      <MakeVideoDialog
        campaignId={campaignId}
        defaultMood={campaign.musicMood}
        opened={making}
        onClose={() => setMaking(false)}
      />
    </Container>
  );
}
