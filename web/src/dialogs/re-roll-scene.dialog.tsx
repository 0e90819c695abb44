import { Button, Modal, NativeSelect, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { ProblemAlert } from "../components/problem-alert.js";
import { humanize } from "../format.js";
import {
  CameraMove,
  CampaignAssetsDocument,
  RetrySceneDocument,
  type RetrySceneInput,
  type SceneCardFragment,
} from "../gql/graphql.js";

const MOVES = Object.values(CameraMove);

/** Re-renders one scene of a finished job, optionally with another pair of photos or another move. */
export function RerollSceneDialog(props: {
  jobId: string;
  campaignId: string;
  scene: SceneCardFragment | null;
  onClose(): void;
  onStarted(): void;
}) {
  const [first, setFirst] = useState("");
  const [last, setLast] = useState("");
  const [move, setMove] = useState("");
  const [photos] = useQuery({
    query: CampaignAssetsDocument,
    variables: { campaignId: props.campaignId, first: 100 },
    pause: !props.scene,
  });
  const [retried, retryScene] = useMutation(RetrySceneDocument);
  const ready = (photos.data?.campaign.assets.edges ?? []).filter(({ node }) => node.status === "READY");
  const photoChoices = [
    { value: "", label: "Keep the current photo" },
    ...ready.map(({ node }) => ({ value: node.id, label: `${node.filename} (${humanize(node.roomType)})` })),
  ];

  const submit = async () => {
    if (!props.scene) return;
    const input: RetrySceneInput = {};
    if (first) input.firstAssetId = first;
    if (last) input.lastAssetId = last;
    if (move) input.cameraMove = move as CameraMove;
    const result = await retryScene({ jobId: props.jobId, index: props.scene.index, input });
    if (!result.error) {
      setFirst("");
      setLast("");
      setMove("");
      props.onStarted();
      props.onClose();
    }
  };

  const number = (props.scene?.index ?? 0) + 1;
  return (
    <Modal opened={props.scene !== null} onClose={props.onClose} title={`Re-roll scene ${number}`}>
      <Stack>
        <Text size="sm">
          The scene is rendered again and the video re-assembled with the new clip. Leave a choice as it is to
          keep the current one.
        </Text>
        <NativeSelect
          label="First photo"
          value={first}
          onChange={(e) => setFirst(e.currentTarget.value)}
          data={photoChoices}
        />
        <NativeSelect
          label="Last photo"
          value={last}
          onChange={(e) => setLast(e.currentTarget.value)}
          data={photoChoices}
        />
        <NativeSelect
          label="Camera move"
          value={move}
          onChange={(e) => setMove(e.currentTarget.value)}
          data={[
            { value: "", label: `Keep ${humanize(props.scene?.cameraMove) || "the current move"}` },
            ...MOVES.map((value) => ({ value, label: humanize(value) })),
          ]}
        />
        <ProblemAlert error={photos.error ?? retried.error} />
        <Button onClick={submit} loading={retried.fetching}>
          Re-roll
        </Button>
      </Stack>
    </Modal>
  );
}
