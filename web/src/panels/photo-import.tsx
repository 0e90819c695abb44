import { Button, Group, List, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { type FormEvent, type ReactNode, useEffect, useState } from "react";
import { useClient, useMutation } from "urql";
import { describeError } from "../api/error-messages.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { ProgressBar } from "../components/progress-bar.js";
import {
  AssetImportDocument,
  type AssetImportProgressFragment,
  ImportAssetsDocument,
  ImportListingDocument,
} from "../gql/graphql.js";

const POLL_MS = 1_000;
const FINISHED = ["SUCCEEDED", "FAILED"];

/** One input and its button on a line, submitted with Enter too. */
function InlineForm(props: { onSubmit(): void; button: string; busy: boolean; children: ReactNode }) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit();
  };
  return (
    <form onSubmit={submit}>
      <Group align="end">
        <div style={{ flex: 1 }}>{props.children}</div>
        <Button type="submit" variant="default" loading={props.busy}>
          {props.button}
        </Button>
      </Group>
    </form>
  );
}

/** Imports by URL or from a listing page; the import runs in the background and is polled for progress. */
export function PhotoImport({ campaignId, onImported }: { campaignId: string; onImported(): void }) {
  const [urls, setUrls] = useState("");
  const [pageUrl, setPageUrl] = useState("");
  const [running, setRunning] = useState<AssetImportProgressFragment | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [urlsResult, importAssets] = useMutation(ImportAssetsDocument);
  const [listingResult, importListing] = useMutation(ImportListingDocument);
  const client = useClient();

  useEffect(() => {
    if (!running || FINISHED.includes(running.status)) return;
    const timer = setTimeout(async () => {
      const result = await client
        .query(AssetImportDocument, { id: running.id }, { requestPolicy: "network-only" })
        .toPromise();
      setProblem(result.error ?? null);
      // After a failed poll the same state is set again as a new object: the next poll is scheduled.
      const next = result.data?.assetImport ?? { ...running };
      const imported = (state: AssetImportProgressFragment) =>
        state.results.filter((each) => each.asset).length;
      if (imported(next) > imported(running) || FINISHED.includes(next.status)) onImported();
      setRunning(next);
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [running, client, onImported]);

  const started = (result: { error?: unknown; data?: AssetImportProgressFragment }) => {
    setProblem(result.error ?? null);
    if (result.data) setRunning(result.data);
  };
  const importUrls = async () => {
    const list = urls.split(/\s+/).filter(Boolean);
    if (list.length === 0) return;
    const result = await importAssets({ campaignId, urls: list });
    started({ error: result.error, data: result.data?.importAssets });
  };
  const importPage = async () => {
    if (!pageUrl.trim()) return;
    const result = await importListing({ campaignId, pageUrl: pageUrl.trim() });
    started({ error: result.error, data: result.data?.importListing });
  };

  const total = running?.results.length ?? 0;
  const done = running?.results.filter((each) => each.status !== "PENDING").length ?? 0;
  const failures = running?.results.filter((each) => each.status === "FAILED") ?? [];
  return (
    <Stack gap="sm">
      <InlineForm onSubmit={importUrls} button="Import photos" busy={urlsResult.fetching}>
        <Textarea
          label="Photo URLs (one per line)"
          autosize
          minRows={1}
          value={urls}
          onChange={(event) => setUrls(event.currentTarget.value)}
        />
      </InlineForm>
      <InlineForm onSubmit={importPage} button="Import listing" busy={listingResult.fetching}>
        <TextInput
          label="Listing page URL"
          type="url"
          value={pageUrl}
          onChange={(event) => setPageUrl(event.currentTarget.value)}
        />
      </InlineForm>
      <ProblemAlert error={problem} />
      {running && (
        <Stack gap={4}>
          <Text size="sm" role="status">
            {FINISHED.includes(running.status)
              ? `Import ${running.status === "SUCCEEDED" ? "finished" : "failed"}: ${total - failures.length} of ${total} photos imported.`
              : `Importing… ${done} of ${total || "?"} photos.`}
          </Text>
          <ProgressBar
            label="Import"
            value={FINISHED.includes(running.status) ? 1 : total ? done / total : 0}
            size="sm"
            running={!FINISHED.includes(running.status)}
          />
          {running.error && <ProblemAlert message={running.error} />}
          {failures.length > 0 && (
            <List size="sm">
              {failures.map((failure) => (
                <List.Item key={failure.url}>
                  {failure.url}:{" "}
                  {describeError([{ message: failure.error, extensions: { code: failure.errorCode } }])}
                </List.Item>
              ))}
            </List>
          )}
        </Stack>
      )}
    </Stack>
  );
}
