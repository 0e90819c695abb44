import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import type { Socket } from "../api/api-clients.js";
import { describeError } from "../api/error-messages.js";
import { type LinkState, subscribeResumably } from "../api/resumable-subscription.js";
import { VideoJobProgressDocument } from "../gql/graphql.js";
import { initialJobProgress, type JobProgressState, reduceJobProgress } from "./job-progress.reducer.js";

export type JobLink = LinkState | "ended" | "failed";

export interface JobProgress {
  state: JobProgressState;
  link: JobLink;
  problem: string | null;
  /** Follows the job again after it ended (a re-rolled scene), from the last event seen. */
  follow(): void;
}

/**
 * A job's live progress: the `videoJobProgress` subscription, resumed after every drop.
 * One job per mount (the job screen is keyed by its id).
 */
export function useJobProgress(socket: Socket, jobId: string): JobProgress {
  const [state, dispatch] = useReducer(reduceJobProgress, initialJobProgress);
  const [link, setLink] = useState<JobLink>("connecting");
  const [problem, setProblem] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  // What the next (re)subscription resumes after: read when it subscribes, not when it was set up.
  const lastSequence = useRef<number | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `round` restarts the subscription on purpose
  useEffect(() => {
    setProblem(null);
    return subscribeResumably(
      socket,
      VideoJobProgressDocument,
      () => ({ jobId, afterSequence: lastSequence.current }),
      {
        onData: ({ videoJobProgress: event }) => {
          lastSequence.current = Math.max(lastSequence.current ?? 0, event.sequence);
          dispatch(event);
        },
        onState: setLink,
        onComplete: () => setLink("ended"),
        onError: (error) => {
          setProblem(describeError(error));
          setLink("failed");
        },
      },
    );
  }, [socket, jobId, round]);

  const follow = useCallback(() => setRound((value) => value + 1), []);
  return { state, link, problem, follow };
}
