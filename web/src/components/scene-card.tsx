import { Badge, Button, Card, Group, Image, Stack, Text, Title } from "@mantine/core";
import { memo } from "react";
import { useStableMediaUrl } from "../api/stable-media-url.js";
import { humanize } from "../format.js";
import type { SceneCardFragment } from "../gql/graphql.js";
import type { LiveScene } from "../state/job-progress.reducer.js";
import { ProgressBar } from "./progress-bar.js";

interface SceneCardProps {
  scene: SceneCardFragment;
  live: LiveScene | undefined;
  canReroll: boolean;
  onReroll(scene: SceneCardFragment): void;
}

const SCENE_STATUS_COLOR: Record<string, string> = {
  PENDING: "gray",
  RUNNING: "blue",
  SUCCEEDED: "green",
  FAILED: "red",
  CANCELLED: "gray",
};

function Frame({ label, asset }: { label: string; asset: SceneCardFragment["firstAsset"] }) {
  const src = useStableMediaUrl(asset?.thumbnailUrl);
  if (!asset || !src) return null;
  return (
    <figure style={{ margin: 0, flex: 1 }}>
      <Image src={src} alt={`${label}: ${asset.filename}`} radius="sm" h={90} fit="cover" />
      <Text component="figcaption" size="xs">
        {label}
      </Text>
    </figure>
  );
}

/**
 * One scene of the board: its slot, the chosen pair, the move, why the selector chose them, a
 * progress bar moved by the live events, the error if any, the clip when done, and a re-roll.
 * Memoised: an event re-renders only the card of the scene it moved (the reducer keeps the
 * other scenes' objects), and a refetched job only the cards whose scene changed.
 */
export const SceneCard = memo(function SceneCard(props: SceneCardProps) {
  const { scene, live } = props;
  const number = scene.index + 1;
  const status = live?.status ?? scene.status;
  const progress = live?.progress ?? scene.progress;
  const error = live?.error ?? scene.error;
  const clip = useStableMediaUrl(status === "SUCCEEDED" ? scene.clipUrl : null);
  const poster = useStableMediaUrl(scene.firstAsset?.thumbnailUrl);
  return (
    <Card withBorder component="article" aria-label={`Scene ${number}`}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={3} size="h5">
            Scene {number}: {humanize(scene.sceneType)}
          </Title>
          <Badge color={SCENE_STATUS_COLOR[status] ?? "gray"} variant="light">
            {humanize(status)}
          </Badge>
        </Group>
        <Group gap="xs" wrap="nowrap">
          <Frame label="First frame" asset={scene.firstAsset} />
          <Frame label="Last frame" asset={scene.lastAsset} />
        </Group>
        <Text size="sm">
          {humanize(scene.cameraMove) || "Camera move not chosen yet"}
          {scene.provider ? ` · ${scene.provider}` : ""}
          {scene.attempts > 1 ? ` · attempt ${scene.attempts}` : ""}
        </Text>
        {scene.reasoning && (
          <Text size="sm" fs="italic">
            {scene.reasoning}
          </Text>
        )}
        <ProgressBar
          label={`Scene ${number}`}
          value={progress}
          color={status === "FAILED" ? "red" : status === "SUCCEEDED" ? "green" : undefined}
          running={status === "RUNNING"}
        />
        {error && (
          <Text size="sm" c="red.9" role="alert">
            {error}
          </Text>
        )}
        {clip && (
          // biome-ignore lint/a11y/useMediaCaption: a silent clip of a camera move has nothing to caption
          <video
            src={clip}
            poster={poster}
            controls
            preload="none"
            aria-label={`Clip of scene ${number}`}
            style={{ width: "100%" }}
          />
        )}
        <Button variant="default" size="xs" disabled={!props.canReroll} onClick={() => props.onReroll(scene)}>
          Re-roll scene {number}
        </Button>
      </Stack>
    </Card>
  );
}, sameCard);

/** A refetch returns new objects for unchanged scenes: compare what the card shows. */
function sameCard(before: SceneCardProps, after: SceneCardProps): boolean {
  return (
    before.live === after.live &&
    before.canReroll === after.canReroll &&
    before.onReroll === after.onReroll &&
    (before.scene === after.scene || JSON.stringify(before.scene) === JSON.stringify(after.scene))
  );
}
