import { Button, Modal, Stack } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { useMutation } from "urql";
import { useLocation } from "wouter";
import {
  CampaignFactsFields,
  emptyFacts,
  type FactsForm,
  factsInput,
} from "../components/campaign-facts-fields.js";
import { ProblemAlert } from "../components/problem-alert.js";
import { CreateCampaignDocument } from "../gql/graphql.js";

export function NewCampaignDialog({ opened, onClose }: { opened: boolean; onClose(): void }) {
  const [form, setForm] = useState<FactsForm>(emptyFacts);
  const [created, createCampaign] = useMutation(CreateCampaignDocument);
  const [, navigate] = useLocation();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { name, ...facts } = factsInput(form);
    // Unset facts are left out of a create (null would mean "clear").
    const input = Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== null));
    const result = await createCampaign({ input: { name, ...input } });
    if (result.data) {
      setForm(emptyFacts);
      onClose();
      navigate(`/campaigns/${result.data.createCampaign.id}`);
    }
  };

  return (
    <Modal opened={opened} onClose={onClose} title="New campaign" size="lg">
      <form onSubmit={submit}>
        <Stack>
          <CampaignFactsFields form={form} onChange={setForm} />
          <ProblemAlert error={created.error} />
          <Button type="submit" loading={created.fetching}>
            Create campaign
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}
