import { Table, Text } from "@mantine/core";
import { formatUsd, humanize } from "../format.js";
import type { CostLinesFragment } from "../gql/graphql.js";

/** An itemised cost: one line per clip, score, selection call, then the total. */
export function CostTable({ cost, caption }: { cost: CostLinesFragment; caption: string }) {
  if (cost.items.length === 0)
    return <Text size="sm">{formatUsd(cost.totalUsd)} (nothing billed: embedded providers are free)</Text>;
  return (
    <Table striped withTableBorder fz="sm">
      <Table.Caption>{caption}</Table.Caption>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Item</Table.Th>
          <Table.Th>Provider</Table.Th>
          <Table.Th>Units</Table.Th>
          <Table.Th>Amount</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {cost.items.map((item, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: cost lines have no identity; their order is stable
          <Table.Tr key={i}>
            <Table.Td>
              {humanize(item.kind)}
              {item.sceneIndex !== null ? ` (scene ${item.sceneIndex + 1})` : ""}
            </Table.Td>
            <Table.Td>{item.provider}</Table.Td>
            <Table.Td>
              {item.units} {item.unit}
              {item.units === 1 ? "" : "s"} × {formatUsd(item.unitPriceUsd)}
            </Table.Td>
            <Table.Td>{formatUsd(item.usd)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
      <Table.Tfoot>
        <Table.Tr>
          <Table.Th colSpan={3}>Total</Table.Th>
          <Table.Td>{formatUsd(cost.totalUsd)}</Table.Td>
        </Table.Tr>
      </Table.Tfoot>
    </Table>
  );
}
