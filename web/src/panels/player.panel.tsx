import { Anchor, Group, Stack, Text } from "@mantine/core";
import { memo } from "react";
import { downloadUrl } from "../api/same-origin.js";
import { useStableMediaUrl } from "../api/stable-media-url.js";
import { CostTable } from "../components/cost-table.js";
import { HlsVideo } from "../components/hls-video.js";
import { formatBytes } from "../format.js";
import type { JobPanelProps } from "../pages/job.page.js";
import { Panel } from "./panel.js";

/**
 * The finished video (seekable: the media route honours Range; the HLS ladder once its renditions
 * are ready), its download, and what it cost.
 * Memoised on the job: progress events do not re-render the player.
 */
export const PlayerPanel = memo(
  function PlayerPanel({ job }: JobPanelProps) {
    const src = useStableMediaUrl(job.video?.url);
    const poster = useStableMediaUrl(job.video?.posterUrl);
    const hls = useStableMediaUrl(job.video?.hlsUrl);
    return (
      <Panel title="Video">
        {job.video && src ? (
          <Stack>
            <HlsVideo
              key={src}
              mp4Url={src}
              hlsUrl={hls}
              poster={poster}
              controls
              preload="metadata"
              aria-label="Property video"
              style={{ width: "100%", maxHeight: "70vh", background: "#000" }}
            />
            <Group>
              <Anchor href={downloadUrl(src)} download>
                Download
              </Anchor>
              <Text size="sm">
                {job.video.width}×{job.video.height}, {job.video.durationSeconds.toFixed(1)} s,{" "}
                {formatBytes(job.video.byteSize)}
              </Text>
            </Group>
          </Stack>
        ) : (
          <Text>The video appears here when the scenes are rendered and assembled.</Text>
        )}
        <CostTable cost={job.cost} caption="Cost so far" />
      </Panel>
    );
  },
  (before, after) => before.job === after.job,
);
