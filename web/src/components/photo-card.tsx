import { Badge, Box, Button, Card, Group, NativeSelect, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { useMutation } from "urql";
import { useStableMediaUrl } from "../api/stable-media-url.js";
import { humanize } from "../format.js";
import {
  type AssetCardFragment,
  DeleteAssetDocument,
  RoomType,
  UpdateAssetDocument,
} from "../gql/graphql.js";
import { ProblemAlert } from "./problem-alert.js";

/** In the schema's order; the service guesses, the user corrects. */
const ROOM_TYPES = Object.values(RoomType);

const STATUS_COLOR: Record<string, string> = {
  READY: "green",
  REJECTED: "red",
  PROCESSING: "blue",
  PENDING_UPLOAD: "gray",
};

/** One photo: thumbnail (alt = file name), status, quality flags, why it was rejected, room type and tags. */
export function PhotoCard({ asset, onDeleted }: { asset: AssetCardFragment; onDeleted(): void }) {
  const thumbnail = useStableMediaUrl(asset.thumbnailUrl);
  const [updated, updateAsset] = useMutation(UpdateAssetDocument);
  const [deleted, deleteAsset] = useMutation(DeleteAssetDocument);
  const [tags, setTags] = useState(asset.tags.join(", "));
  const flags = asset.quality?.flags ?? [];

  const saveTags = () => {
    const list = tags
      .split(",")
      .map((tag) => tag.trim())
      .filter(Boolean);
    if (list.join(",") !== asset.tags.join(",")) void updateAsset({ id: asset.id, input: { tags: list } });
  };

  return (
    <Card withBorder padding="xs">
      <Card.Section>
        {thumbnail ? (
          <img
            src={thumbnail}
            alt={asset.filename}
            // Off-screen thumbnails wait until scrolled to: the grid is usable as soon as the first rows show.
            loading="lazy"
            decoding="async"
            style={{ display: "block", width: "100%", aspectRatio: "4 / 3", objectFit: "cover" }}
          />
        ) : (
          <Box role="img" aria-label={asset.filename} bg="gray.2" style={{ aspectRatio: "4 / 3" }} p="xs">
            <Text size="sm">No preview</Text>
          </Box>
        )}
      </Card.Section>
      <Stack gap={6} mt="xs">
        <Text size="sm" fw={600} truncate="end" title={asset.filename}>
          {asset.filename}
        </Text>
        <Group gap={4}>
          <Badge color={STATUS_COLOR[asset.status] ?? "gray"} variant="light">
            {humanize(asset.status)}
          </Badge>
          {flags.map((flag) => (
            <Badge key={flag} color="orange" variant="outline">
              {flag}
            </Badge>
          ))}
        </Group>
        {asset.rejectionReason && (
          <Text size="sm" c="red.9">
            Rejected: {asset.rejectionReason}
          </Text>
        )}
        {asset.status === "READY" && (
          <>
            <NativeSelect
              size="xs"
              label="Room type"
              aria-label={`Room type of ${asset.filename}`}
              value={asset.roomType ?? "UNKNOWN"}
              data={ROOM_TYPES.map((type) => ({ value: type, label: humanize(type) }))}
              onChange={(event) =>
                void updateAsset({ id: asset.id, input: { roomType: event.currentTarget.value as RoomType } })
              }
            />
            <TextInput
              size="xs"
              label="Tags"
              aria-label={`Tags of ${asset.filename}`}
              placeholder="pool, sea view"
              value={tags}
              onChange={(event) => setTags(event.currentTarget.value)}
              onBlur={saveTags}
              onKeyDown={(event) => {
                if (event.key === "Enter") saveTags();
              }}
            />
          </>
        )}
        <ProblemAlert error={updated.error ?? deleted.error} />
        <Button
          size="xs"
          variant="subtle"
          color="red"
          loading={deleted.fetching}
          aria-label={`Delete ${asset.filename}`}
          onClick={async () => {
            const result = await deleteAsset({ id: asset.id });
            if (!result.error) onDeleted();
          }}
        >
          Delete
        </Button>
      </Stack>
    </Card>
  );
}
