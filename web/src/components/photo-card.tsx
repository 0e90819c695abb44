import { Badge, Box, Button, Card, Group, NativeSelect, Stack, Text, TextInput } from "@mantine/core";
import { type FormEvent, useState } from "react";
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
/**
 * Read-only until "Edit" is pressed: a campaign page lists many photos, and a card without
 * form fields renders several times faster (30 cards are on screen at once).
 */
export function PhotoCard({ asset, onDeleted }: { asset: AssetCardFragment; onDeleted(): void }) {
  const thumbnail = useStableMediaUrl(asset.thumbnailUrl);
  const [editing, setEditing] = useState(false);
  const [deleted, deleteAsset] = useMutation(DeleteAssetDocument);
  const flags = asset.quality?.flags ?? [];
  const roomType = asset.roomType ?? asset.roomTypeGuess;

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
        {asset.status === "READY" &&
          (editing ? (
            <PhotoEditor asset={asset} onDone={() => setEditing(false)} />
          ) : (
            <Text size="sm">
              {humanize(roomType) || "Room not known"}
              {asset.roomType === null && roomType ? " (guessed)" : ""}
              {asset.tags.length > 0 ? ` · ${asset.tags.join(", ")}` : ""}
            </Text>
          ))}
        <ProblemAlert error={deleted.error} />
        <Group gap={4} grow>
          {asset.status === "READY" && !editing && (
            <Button
              size="xs"
              variant="default"
              aria-label={`Edit ${asset.filename}`}
              onClick={() => setEditing(true)}
            >
              Edit
            </Button>
          )}
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
        </Group>
      </Stack>
    </Card>
  );
}

/** Room type (overrides the guess) and tags of one photo. */
function PhotoEditor({ asset, onDone }: { asset: AssetCardFragment; onDone(): void }) {
  const [roomType, setRoomType] = useState<RoomType>(
    asset.roomType ?? asset.roomTypeGuess ?? RoomType.Unknown,
  );
  const [tags, setTags] = useState(asset.tags.join(", "));
  const [updated, updateAsset] = useMutation(UpdateAssetDocument);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const list = tags
      .split(",")
      .map((tag) => tag.trim())
      .filter(Boolean);
    const result = await updateAsset({ id: asset.id, input: { roomType, tags: list } });
    if (!result.error) onDone();
  };
  return (
    <form onSubmit={save}>
      <Stack gap={6}>
        <NativeSelect
          size="xs"
          label="Room type"
          aria-label={`Room type of ${asset.filename}`}
          value={roomType}
          data={ROOM_TYPES.map((type) => ({ value: type, label: humanize(type) }))}
          onChange={(event) => setRoomType(event.currentTarget.value as RoomType)}
        />
        <TextInput
          size="xs"
          label="Tags"
          aria-label={`Tags of ${asset.filename}`}
          placeholder="pool, sea view"
          value={tags}
          onChange={(event) => setTags(event.currentTarget.value)}
        />
        <ProblemAlert error={updated.error} />
        <Group gap={4} grow>
          <Button size="xs" type="submit" loading={updated.fetching}>
            Save
          </Button>
          <Button size="xs" variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
