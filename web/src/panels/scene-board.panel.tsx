import { SimpleGrid, Text } from "@mantine/core";
import { useState } from "react";
import { SceneCard } from "../components/scene-card.js";
import { RerollSceneDialog } from "../dialogs/re-roll-scene.dialog.js";
import type { SceneCardFragment } from "../gql/graphql.js";
import type { JobPanelProps } from "../pages/job.page.js";
import { Panel } from "./panel.js";

/** The live scene board: one card per scene, moved by the subscription's events. */
export function SceneBoardPanel({ job, progress }: JobPanelProps) {
  const [rerolling, setRerolling] = useState<SceneCardFragment | null>(null);
  const status = progress.state.status ?? job.status;
  const finished = status === "SUCCEEDED" || status === "FAILED";
  return (
    <Panel title="Scenes">
      {job.scenes.length === 0 ? (
        <Text>The selector is choosing a pair of photos and a camera move for each scene…</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {job.scenes.map((scene) => (
            <SceneCard
              key={scene.index}
              scene={scene}
              live={progress.state.scenes.find((live) => live.index === scene.index)}
              canReroll={finished}
              onReroll={setRerolling}
            />
          ))}
        </SimpleGrid>
      )}
      <RerollSceneDialog
        jobId={job.id}
        campaignId={job.campaign.id}
        scene={rerolling}
        onClose={() => setRerolling(null)}
        onStarted={progress.follow}
      />
    </Panel>
  );
}
