import { Button, Container, Group, Stack, Text, Title } from "@mantine/core";
import { type ComponentType, useState } from "react";
import { useQuery } from "urql";
import { Loading } from "../components/loading.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { MakeVideoDialog } from "../dialogs/make-video.dialog.js";
import { formatPrice } from "../format.js";
import { CampaignDocument, type CampaignFactsFragment } from "../gql/graphql.js";
import { CampaignFactsPanel } from "../panels/campaign-facts.panel.js";
import { PhotosPanel } from "../panels/photos.panel.js";
import { VideosPanel } from "../panels/videos.panel.js";

export interface CampaignPanelProps {
  campaignId: string;
  /** The listing's facts; undefined while they load (panels that only need the id do not wait). */
  campaign: CampaignFactsFragment | undefined;
}

/** The campaign screen, top to bottom; a new feature adds its panel here. */
const PANELS: [name: string, panel: ComponentType<CampaignPanelProps>][] = [
  ["photos", PhotosPanel],
  ["videos", VideosPanel],
  ["details", CampaignFactsPanel],
];

export function CampaignPage({ campaignId }: { campaignId: string }) {
  // The panels query their own data at the same time as this one: no waterfall.
  const [{ data, error }] = useQuery({ query: CampaignDocument, variables: { id: campaignId } });
  const [making, setMaking] = useState(false);
  if (error) return <ProblemAlert error={error} />;
  const campaign = data?.campaign;
  return (
    <Container size="xl">
      <Stack>
        <Group justify="space-between" align="start">
          {campaign ? (
            <div>
              <Title order={1}>{campaign.name}</Title>
              <Text>
                {[campaign.address, formatPrice(campaign.price, campaign.currency)]
                  .filter(Boolean)
                  .join(" · ")}
              </Text>
            </div>
          ) : (
            <Loading label="Loading the campaign" />
          )}
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
        defaultMood={campaign?.musicMood ?? null}
        opened={making}
        onClose={() => setMaking(false)}
      />
    </Container>
  );
}
