import { Card, Group, Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";

/**
 * A titled section of a page. Pages are lists of panels (see campaign.page.tsx and
 * job.page.tsx): a new feature adds its panel to the list.
 */
export function Panel({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <Card withBorder padding="lg" component="section" aria-label={title}>
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h3">
            {title}
          </Title>
          {actions}
        </Group>
        {children}
      </Stack>
    </Card>
  );
}
