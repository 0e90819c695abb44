import { Button, Modal, NativeSelect, NumberInput, SimpleGrid, Stack, Text } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";
import { useLocation } from "wouter";
import { randomKey } from "../api/idempotency-key.js";
import { MOODS } from "../components/campaign-facts-fields.js";
import { CostTable } from "../components/cost-table.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { ASPECT_RATIOS, aspectLabel, humanize } from "../format.js";
import {
  type AspectRatio,
  CreateVideoJobDocument,
  type CreateVideoJobInput,
  EstimateVideoCostDocument,
  type MusicMood,
  type ProviderRole,
  ProvidersDocument,
} from "../gql/graphql.js";

interface Options {
  aspectRatio: AspectRatio;
  mood: MusicMood;
  sceneCount: number;
  secondsPerScene: number;
  selector: string;
  videoProvider: string;
  musicProvider: string;
}

/**
 * What video to make: the options, the providers this server offers, a live cost estimate, and
 * an idempotent Start. The idempotency key belongs to the options as shown: a double click
 * sends the same key with the same input and gets the same job; changing an option makes a new key.
 */
export function MakeVideoDialog(props: {
  campaignId: string;
  defaultMood: MusicMood | null;
  opened: boolean;
  onClose(): void;
}) {
  const [options, setOptions] = useState<Options>({
    aspectRatio: "LANDSCAPE_16_9",
    mood: props.defaultMood ?? "LUXURY",
    sceneCount: 7,
    secondsPerScene: 4,
    selector: "heuristic",
    videoProvider: "local",
    musicProvider: "local",
  });
  const set = <K extends keyof Options>(key: K, value: Options[K]) =>
    setOptions({ ...options, [key]: value });
  const input: CreateVideoJobInput = useMemo(
    () => ({ campaignId: props.campaignId, ...options }),
    [props.campaignId, options],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new key for every distinct input and every opening
  const idempotencyKey = useMemo(() => randomKey(), [input, props.opened]);
  const [debounced] = useDebouncedValue(input, 250);
  const valid =
    options.sceneCount >= 1 &&
    options.sceneCount <= 12 &&
    options.secondsPerScene >= 2 &&
    options.secondsPerScene <= 10;

  const [providers] = useQuery({ query: ProvidersDocument, pause: !props.opened });
  const [estimate] = useQuery({
    query: EstimateVideoCostDocument,
    variables: { input: debounced },
    pause: !props.opened || !valid,
  });
  const [created, createVideoJob] = useMutation(CreateVideoJobDocument);
  const [, navigate] = useLocation();

  const choices = (role: ProviderRole) =>
    (providers.data?.providers ?? [])
      .filter((provider) => provider.role === role)
      .map((provider) => ({ value: provider.name, label: `${provider.name} — ${provider.description}` }));
  const providerSelect = (
    label: string,
    role: ProviderRole,
    key: "selector" | "videoProvider" | "musicProvider",
  ) => {
    const data = choices(role);
    return (
      <NativeSelect
        label={label}
        value={options[key]}
        onChange={(event) => set(key, event.currentTarget.value)}
        data={data.length ? data : [{ value: options[key], label: options[key] }]}
      />
    );
  };

  const start = async () => {
    const result = await createVideoJob({ input, idempotencyKey });
    if (result.data) {
      props.onClose();
      navigate(`/jobs/${result.data.createVideoJob.id}`);
    }
  };

  return (
    <Modal opened={props.opened} onClose={props.onClose} title="Make a video" size="lg">
      <Stack>
        <SimpleGrid cols={2}>
          <NativeSelect
            label="Aspect ratio"
            value={options.aspectRatio}
            onChange={(event) => set("aspectRatio", event.currentTarget.value as AspectRatio)}
            data={ASPECT_RATIOS.map((value) => ({ value, label: aspectLabel(value) }))}
          />
          <NativeSelect
            label="Mood"
            value={options.mood}
            onChange={(event) => set("mood", event.currentTarget.value as MusicMood)}
            data={MOODS.map((mood) => ({ value: mood, label: humanize(mood) }))}
          />
          <NumberInput
            label="Scenes"
            min={1}
            max={12}
            allowDecimal={false}
            value={options.sceneCount}
            onChange={(value) => set("sceneCount", Number(value) || 0)}
          />
          <NumberInput
            label="Seconds per scene"
            min={2}
            max={10}
            step={1}
            value={options.secondsPerScene}
            onChange={(value) => set("secondsPerScene", Number(value) || 0)}
          />
        </SimpleGrid>
        {providerSelect("Photo selector", "SELECTOR", "selector")}
        {providerSelect("Video provider", "VIDEO", "videoProvider")}
        {providerSelect("Music provider", "MUSIC", "musicProvider")}
        <ProblemAlert error={providers.error} />
        <section aria-label="Cost estimate">
          <Text fw={600}>Estimated cost</Text>
          {!valid ? (
            <Text size="sm">Scenes must be 1 to 12 and seconds per scene 2 to 10.</Text>
          ) : estimate.data ? (
            <CostTable cost={estimate.data.estimateVideoCost} caption="Estimated cost" />
          ) : (
            <ProblemAlert error={estimate.error} />
          )}
        </section>
        <ProblemAlert error={created.error} />
        <Button onClick={start} loading={created.fetching} disabled={!valid}>
          Start
        </Button>
      </Stack>
    </Modal>
  );
}
