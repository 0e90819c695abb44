import { NativeSelect, NumberInput, SimpleGrid, Textarea, TextInput } from "@mantine/core";
import { humanize } from "../format.js";
import { type CampaignFactsFragment, MusicMood, type UpdateCampaignInput } from "../gql/graphql.js";

/** The listing facts as a form edits them (empty string = not set). */
export interface FactsForm {
  name: string;
  address: string;
  price: number | "";
  bedrooms: number | "";
  bathrooms: number | "";
  areaSqft: number | "";
  description: string;
  musicMood: MusicMood | "";
}

export const MOODS = Object.values(MusicMood);

export const emptyFacts: FactsForm = {
  name: "",
  address: "",
  price: "",
  bedrooms: "",
  bathrooms: "",
  areaSqft: "",
  description: "",
  musicMood: "",
};

export function factsOf(campaign: CampaignFactsFragment): FactsForm {
  return {
    name: campaign.name,
    address: campaign.address ?? "",
    price: campaign.price ?? "",
    bedrooms: campaign.bedrooms ?? "",
    bathrooms: campaign.bathrooms ?? "",
    areaSqft: campaign.areaSqft ?? "",
    description: campaign.description ?? "",
    musicMood: campaign.musicMood ?? "",
  };
}

const numberOrNull = (value: number | "") => (value === "" ? null : value);

/** The form as the API's input (an emptied field clears the value). */
export function factsInput(form: FactsForm): UpdateCampaignInput & { name: string } {
  return {
    name: form.name.trim(),
    address: form.address.trim() || null,
    price: numberOrNull(form.price),
    bedrooms: numberOrNull(form.bedrooms),
    bathrooms: numberOrNull(form.bathrooms),
    areaSqft: numberOrNull(form.areaSqft),
    description: form.description.trim() || null,
    musicMood: form.musicMood || null,
  };
}

const asNumber = (value: string | number): number | "" => (typeof value === "number" ? value : "");

/** Name, address, price, beds, baths, area, mood and description. */
export function CampaignFactsFields({
  form,
  onChange,
}: {
  form: FactsForm;
  onChange(form: FactsForm): void;
}) {
  const set = <K extends keyof FactsForm>(key: K, value: FactsForm[K]) => onChange({ ...form, [key]: value });
  return (
    <>
      <TextInput
        label="Campaign name"
        required
        value={form.name}
        onChange={(event) => set("name", event.currentTarget.value)}
      />
      <TextInput
        label="Address"
        value={form.address}
        onChange={(event) => set("address", event.currentTarget.value)}
      />
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <NumberInput
          label="Price"
          min={0}
          thousandSeparator=","
          value={form.price}
          onChange={(value) => set("price", asNumber(value))}
        />
        <NumberInput
          label="Bedrooms"
          min={0}
          allowDecimal={false}
          value={form.bedrooms}
          onChange={(value) => set("bedrooms", asNumber(value))}
        />
        <NumberInput
          label="Bathrooms"
          min={0}
          step={0.5}
          value={form.bathrooms}
          onChange={(value) => set("bathrooms", asNumber(value))}
        />
        <NumberInput
          label="Area (sq ft)"
          min={0}
          allowDecimal={false}
          value={form.areaSqft}
          onChange={(value) => set("areaSqft", asNumber(value))}
        />
      </SimpleGrid>
      <NativeSelect
        label="Music mood"
        value={form.musicMood}
        onChange={(event) => set("musicMood", event.currentTarget.value as MusicMood | "")}
        data={[
          { value: "", label: "Default (luxury)" },
          ...MOODS.map((mood) => ({ value: mood, label: humanize(mood) })),
        ]}
      />
      <Textarea
        label="Description"
        autosize
        minRows={2}
        value={form.description}
        onChange={(event) => set("description", event.currentTarget.value)}
      />
    </>
  );
}
