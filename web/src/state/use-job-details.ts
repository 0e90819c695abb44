import { useEffect, useRef, useState } from "react";
import { useClient } from "urql";
import { VideoJobDocument, type VideoJobQuery } from "../gql/graphql.js";

export type JobDetails = VideoJobQuery["videoJob"];

/**
 * The full job (scenes with their photos, clips, video, cost), fetched again each time the
 * live events say its shape changed (`refreshes`). Fetches never overlap and never get lost:
 * a refresh asked for during a fetch runs right after it, so the last answer is the newest.
 */
export function useJobDetails(jobId: string, refreshes: number): { job: JobDetails | null; error: unknown } {
  const client = useClient();
  const [job, setJob] = useState<JobDetails | null>(null);
  const [error, setError] = useState<unknown>(null);
  const fetching = useRef({ running: false, again: false, mounted: true });

  useEffect(() => {
    const state = fetching.current;
    state.mounted = true;
    return () => {
      state.mounted = false;
    };
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `refreshes` is the trigger
  useEffect(() => {
    const state = fetching.current;
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    void (async () => {
      do {
        state.again = false;
        const result = await client
          .query(VideoJobDocument, { id: jobId }, { requestPolicy: "network-only" })
          .toPromise();
        if (!state.mounted) break;
        if (result.data) {
          setJob(result.data.videoJob);
          setError(null);
        } else {
          setError(result.error);
        }
      } while (state.again);
      state.running = false;
    })();
  }, [client, jobId, refreshes]);

  return { job, error };
}
