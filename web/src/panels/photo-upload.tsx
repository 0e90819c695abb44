import { Group, Paper, Stack, Text } from "@mantine/core";
import { type DragEvent, useId, useRef, useState } from "react";
import { useClient } from "urql";
import { describeError, describeProblem } from "../api/error-messages.js";
import { onPageOrigin } from "../api/same-origin.js";
import { putFile } from "../api/upload.js";
import { PlainList } from "../components/plain-list.js";
import { ProgressBar } from "../components/progress-bar.js";
import { formatBytes } from "../format.js";
import { CreateAssetUploadDocument } from "../gql/graphql.js";

interface UploadItem {
  key: string;
  name: string;
  size: number;
  progress: number;
  state: "waiting" | "uploading" | "done" | "failed";
  message?: string;
}

/** Uploads at once: enough to keep the line busy, few enough that each bar moves. */
const PARALLEL_UPLOADS = 3;

/**
 * Drag-and-drop or the file picker, many files at once; each file is announced
 * (`createAssetUpload`), then PUT to its signed URL with its own progress bar. The service
 * checks the bytes on arrival, so a rejection and its reason show on that file's line.
 */
export function PhotoUpload({ campaignId, onUploaded }: { campaignId: string; onUploaded(): void }) {
  const client = useClient();
  const inputId = useId();
  const [items, setItems] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const counter = useRef(0);

  const update = (key: string, change: Partial<UploadItem>) =>
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));

  const uploadOne = async (item: UploadItem, file: File) => {
    update(item.key, { state: "uploading" });
    const announced = await client
      .mutation(CreateAssetUploadDocument, {
        input: {
          campaignId,
          filename: file.name,
          contentType: file.type || "application/octet-stream",
          byteSize: file.size,
        },
      })
      .toPromise();
    if (!announced.data) {
      update(item.key, { state: "failed", message: describeError(announced.error) });
      return;
    }
    const url = onPageOrigin(announced.data.createAssetUpload.uploadUrl);
    const outcome = await putFile(url, file, (progress) => update(item.key, { progress }));
    update(
      item.key,
      outcome.ok
        ? { state: "done", progress: 1, message: "Uploaded" }
        : { state: "failed", message: describeProblem(outcome.problem ?? {}) },
    );
    onUploaded();
  };

  const start = (files: File[]) => {
    const queue = files.map((file) => {
      const item: UploadItem = {
        key: `${++counter.current}`,
        name: file.name,
        size: file.size,
        progress: 0,
        state: "waiting",
      };
      return { item, file };
    });
    setItems((list) => [...queue.map(({ item }) => item), ...list.filter((item) => item.state !== "done")]);
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await uploadOne(next.item, next.file);
    };
    for (let i = 0; i < PARALLEL_UPLOADS; i++) void worker();
  };

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const files = Array.from(event.dataTransfer.files);
    if (files.length > 0) start(files);
  };

  return (
    <Stack gap="xs">
      <Paper
        withBorder
        p="md"
        bg={dragging ? "indigo.0" : undefined}
        style={{ borderStyle: "dashed" }}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
      >
        <Group>
          <Text component="label" htmlFor={inputId} fw={600}>
            Add photos
          </Text>
          <input
            id={inputId}
            type="file"
            multiple
            accept="image/jpeg,image/png,image/webp,image/avif,image/heic,.heic"
            onChange={(event) => {
              const files = Array.from(event.currentTarget.files ?? []);
              event.currentTarget.value = "";
              if (files.length > 0) start(files);
            }}
          />
          <Text size="sm">or drop them here (JPEG, PNG, WebP, AVIF, HEIC).</Text>
        </Group>
      </Paper>
      {items.length > 0 && (
        <PlainList label="Uploads" gap="var(--mantine-spacing-xs)">
          {items.map((item) => (
            <li key={item.key}>
              <Group justify="space-between" gap="xs">
                <Text size="sm">
                  {item.name} ({formatBytes(item.size)})
                </Text>
                <Text
                  size="sm"
                  c={item.state === "failed" ? "red.9" : undefined}
                  role={item.state === "failed" ? "alert" : undefined}
                >
                  {item.message ??
                    (item.state === "waiting" ? "Waiting" : `${Math.round(item.progress * 100)} %`)}
                </Text>
              </Group>
              <ProgressBar
                label={`Uploading ${item.name}`}
                value={item.progress}
                size="sm"
                color={item.state === "failed" ? "red" : item.state === "done" ? "green" : undefined}
              />
            </li>
          ))}
        </PlainList>
      )}
    </Stack>
  );
}
