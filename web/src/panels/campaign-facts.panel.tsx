import { Button, Group, Stack, Text } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { useMutation } from "urql";
import { useLocation } from "wouter";
import {
  CampaignFactsFields,
  type FactsForm,
  factsInput,
  factsOf,
} from "../components/campaign-facts-fields.js";
import { Loading } from "../components/loading.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { ConfirmDialog } from "../dialogs/confirm.dialog.js";
import {
  type CampaignFactsFragment,
  DeleteCampaignDocument,
  UpdateCampaignDocument,
} from "../gql/graphql.js";
import { Panel } from "./panel.js";

/** The listing's facts (what the video's captions and mood draw on), and deleting the campaign. */
export function CampaignFactsPanel({ campaign }: { campaign: CampaignFactsFragment | undefined }) {
  return (
    <Panel title="Listing details">
      {campaign ? (
        <CampaignFactsEditor campaign={campaign} />
      ) : (
        <Loading label="Loading the listing details" />
      )}
    </Panel>
  );
}

function CampaignFactsEditor({ campaign }: { campaign: CampaignFactsFragment }) {
  const [form, setForm] = useState<FactsForm>(() => factsOf(campaign));
  const [saved, updateCampaign] = useMutation(UpdateCampaignDocument);
  const [deleted, deleteCampaign] = useMutation(DeleteCampaignDocument);
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState(false);
  const [, navigate] = useLocation();

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const result = await updateCampaign({ id: campaign.id, input: factsInput(form) });
    setDone(!result.error);
  };

  const remove = async () => {
    const result = await deleteCampaign({ id: campaign.id });
    if (!result.error) navigate("/");
  };

  return (
    <>
      <form onSubmit={save}>
        <Stack>
          <CampaignFactsFields
            form={form}
            onChange={(next) => {
              setDone(false);
              setForm(next);
            }}
          />
          <ProblemAlert error={saved.error} />
          <Group justify="space-between">
            <Group>
              <Button type="submit" loading={saved.fetching}>
                Save details
              </Button>
              {done && <Text role="status">Saved.</Text>}
            </Group>
            <Button color="red" variant="outline" onClick={() => setConfirming(true)}>
              Delete campaign
            </Button>
          </Group>
        </Stack>
      </form>
      <ProblemAlert error={deleted.error} />
      <ConfirmDialog
        opened={confirming}
        title="Delete this campaign?"
        message={`“${campaign.name}” will be deleted with all its photos, videos and jobs. This cannot be undone.`}
        confirmLabel="Delete campaign"
        busy={deleted.fetching}
        onConfirm={remove}
        onClose={() => setConfirming(false)}
      />
    </>
  );
}
