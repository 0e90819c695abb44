import { Alert, Anchor, Badge, Button, Container, Group, Stack, Text, Title } from "@mantine/core";
import type { ComponentType } from "react";
import { useMutation } from "urql";
import { Link } from "wouter";
import { LinkBadge } from "../components/link-badge.js";
import { Loading } from "../components/loading.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { ProgressBar } from "../components/progress-bar.js";
import { aspectLabel, humanize } from "../format.js";
import { CancelVideoJobDocument } from "../gql/graphql.js";
import { PlayerPanel } from "../panels/player.panel.js";
import { SceneBoardPanel } from "../panels/scene-board.panel.js";
import { JOB_STATUS_COLOR } from "../panels/videos.panel.js";
import { useSession } from "../session/session.context.js";
import { type JobDetails, useJobDetails } from "../state/use-job-details.js";
import { type JobProgress, useJobProgress } from "../state/use-job-progress.js";

export interface JobPanelProps {
  job: JobDetails;
  progress: JobProgress;
}

/** The job screen, top to bottom; a new feature adds its panel here. */
const PANELS: [name: string, panel: ComponentType<JobPanelProps>][] = [
  ["scenes", SceneBoardPanel],
  ["video", PlayerPanel],
];

const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"];

export function JobPage({ jobId }: { jobId: string }) {
  const { clients } = useSession();
  const progress = useJobProgress(clients.socket, jobId);
  const { job, error } = useJobDetails(jobId, progress.state.refreshes);
  const [cancelled, cancelJob] = useMutation(CancelVideoJobDocument);

  if (!job) return error ? <ProblemAlert error={error} /> : <Loading label="Loading the job" />;
  const live = progress.state;
  const status = live.status ?? job.status;
  const stage = live.lastSequence === null ? job.stage : live.stage;
  const jobError = live.lastSequence === null ? job.error : live.error;
  return (
    // The data attributes let tests (and curious integrators) check that nothing was missed or repeated.
    <Container
      size="xl"
      data-last-sequence={live.lastSequence ?? ""}
      data-gaps={live.gaps}
      data-repeats={live.repeats}
    >
      <Stack>
        <Group justify="space-between" align="start">
          <div>
            <Title order={1}>Video for {job.campaign.name}</Title>
            <Anchor component={Link} href={`/campaigns/${job.campaign.id}`} size="sm">
              Back to the campaign
            </Anchor>
          </div>
          <Group>
            <LinkBadge link={progress.link} />
            {!TERMINAL.includes(status) && (
              <Button
                color="red"
                variant="outline"
                loading={cancelled.fetching}
                onClick={() => cancelJob({ id: jobId })}
              >
                Cancel job
              </Button>
            )}
          </Group>
        </Group>
        <Group gap="xs">
          <Badge color={JOB_STATUS_COLOR[status] ?? "gray"} size="lg" variant="light">
            {humanize(status)}
          </Badge>
          {stage && !TERMINAL.includes(status) && <Text>{humanize(stage)}…</Text>}
          <Text size="sm">
            {job.sceneCount} scenes × {job.secondsPerScene} s · {aspectLabel(job.aspectRatio)} ·{" "}
            {humanize(job.mood)} · {job.videoProvider}
          </Text>
        </Group>
        <ProgressBar
          label="Video"
          value={live.lastSequence === null ? job.progress : live.progress}
          size="xl"
        />
        {jobError && <ProblemAlert message={jobError} title="The job failed" />}
        <ProblemAlert error={cancelled.error} />
        <ProblemAlert message={progress.problem} title="Live updates stopped" />
        {live.gaps > 0 && (
          <Alert color="orange" role="alert">
            Some progress updates were missed; the board was refreshed from the server.
          </Alert>
        )}
        {PANELS.map(([name, Panel]) => (
          <Panel key={name} job={job} progress={progress} />
        ))}
      </Stack>
    </Container>
  );
}
