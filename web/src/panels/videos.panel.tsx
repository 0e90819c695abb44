import { Anchor, Badge, Group, List, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";
import { Link } from "wouter";
import type { LinkState } from "../api/resumable-subscription.js";
import { subscribeResumably } from "../api/resumable-subscription.js";
import { LinkBadge } from "../components/link-badge.js";
import { LoadMore } from "../components/load-more.js";
import { Loading } from "../components/loading.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { aspectLabel, formatTime, humanize } from "../format.js";
import {
  CampaignActivityDocument,
  type CampaignActivitySubscription,
  CampaignJobsDocument,
} from "../gql/graphql.js";
import { useSession } from "../session/session.context.js";
import { usePagedList } from "../state/use-paged-list.js";
import { useRefreshingQuery } from "../state/use-refreshing-query.js";
import { Panel } from "./panel.js";

type ActivityEvent = CampaignActivitySubscription["campaignActivity"];

const JOB_PAGE_SIZE = 10;

export const JOB_STATUS_COLOR: Record<string, string> = {
  SUCCEEDED: "green",
  FAILED: "red",
  CANCELLED: "gray",
  QUEUED: "gray",
  PLANNING: "blue",
  RENDERING: "blue",
  ASSEMBLING: "blue",
};

/** The campaign's job history, kept current by its live activity feed (`campaignActivity`). */
export function VideosPanel({ campaignId }: { campaignId: string }) {
  const pages = usePagedList();
  const { clients } = useSession();
  const [activity, setActivity] = useState<ActivityEvent[]>([]);
  const [link, setLink] = useState<LinkState>("connecting");
  const [problem, setProblem] = useState<unknown>(null);
  const { reload } = pages;

  useEffect(
    () =>
      subscribeResumably(clients.socket, CampaignActivityDocument, () => ({ campaignId }), {
        onData: ({ campaignActivity: event }) => {
          setActivity((list) => [event, ...list].slice(0, 20));
          reload();
        },
        onState: setLink,
        onComplete: () => undefined,
        onError: setProblem,
        // Jobs may have started or finished while the socket was down.
        onReconnected: reload,
      }),
    [clients.socket, campaignId, reload],
  );

  return (
    <Panel title="Videos">
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Stack>
          <Title order={3} size="h4">
            Job history
          </Title>
          {pages.cursors.map((after, i) => (
            <JobHistoryPage
              key={after ?? "first"}
              campaignId={campaignId}
              after={after}
              refresh={pages.refresh}
              onMore={i === pages.cursors.length - 1 ? pages.more : undefined}
            />
          ))}
        </Stack>
        <Stack>
          <Group>
            <Title order={3} size="h4">
              Live activity
            </Title>
            <LinkBadge link={link} />
          </Group>
          <ProblemAlert error={problem} />
          {activity.length === 0 ? (
            <Text size="sm">Jobs of this campaign appear here as they start and finish.</Text>
          ) : (
            <List size="sm" aria-live="polite">
              {activity.map((event) => (
                <List.Item key={`${event.job.id}:${event.sequence}`}>
                  {formatTime(event.at)}: job{" "}
                  <Anchor component={Link} href={`/jobs/${event.job.id}`}>
                    {event.job.id.slice(0, 8)}
                  </Anchor>{" "}
                  {humanize(event.type)}
                </List.Item>
              ))}
            </List>
          )}
        </Stack>
      </SimpleGrid>
    </Panel>
  );
}

function JobHistoryPage(props: {
  campaignId: string;
  after: string | null;
  refresh: number;
  onMore?: (cursor: string) => void;
}) {
  const variables = { campaignId: props.campaignId, first: JOB_PAGE_SIZE, after: props.after };
  const [{ data, error, fetching }] = useRefreshingQuery(CampaignJobsDocument, variables, props.refresh, [
    "VideoJob",
  ]);
  if (error) return <ProblemAlert error={error} />;
  if (!data) return fetching ? <Loading label="Loading jobs" /> : null;
  const { edges, pageInfo } = data.campaign.videoJobs;
  if (edges.length === 0 && props.after === null) return <Text size="sm">No videos yet.</Text>;
  return (
    <>
      <Table fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Started</Table.Th>
            <Table.Th>Scenes</Table.Th>
            <Table.Th>Status</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {edges.map(({ node }) => (
            <Table.Tr key={node.id}>
              <Table.Td>
                <Anchor component={Link} href={`/jobs/${node.id}`}>
                  {formatTime(node.createdAt)}
                </Anchor>
              </Table.Td>
              <Table.Td>
                {node.sceneCount} × {node.secondsPerScene} s, {aspectLabel(node.aspectRatio)}
              </Table.Td>
              <Table.Td>
                <Badge color={JOB_STATUS_COLOR[node.status] ?? "gray"} variant="light">
                  {humanize(node.status)}
                </Badge>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <LoadMore pageInfo={pageInfo} onMore={props.onMore} label="More jobs" />
    </>
  );
}
