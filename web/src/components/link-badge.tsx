import { Badge } from "@mantine/core";
import type { JobLink } from "../state/use-job-progress.js";

const LABELS: Record<JobLink, [string, string]> = {
  connecting: ["Connecting…", "gray"],
  live: ["Live", "green"],
  reconnecting: ["Reconnecting…", "orange"],
  ended: ["Finished", "gray"],
  failed: ["Disconnected", "red"],
};

/** The state of a live subscription, visible (and announced) so a dropped connection is never silent. */
export function LinkBadge({ link }: { link: JobLink }) {
  const [label, color] = LABELS[link];
  return (
    <Badge variant="light" color={color} role="status" aria-label={`Live updates: ${label}`}>
      {label}
    </Badge>
  );
}
