import { Anchor, Container, Text, Title } from "@mantine/core";
import { Link } from "wouter";

export function NotFoundPage() {
  return (
    <Container py="xl">
      <Title order={1}>Page not found</Title>
      <Text>
        Nothing lives at this address.{" "}
        <Anchor component={Link} href="/">
          Back to the campaigns
        </Anchor>
      </Text>
    </Container>
  );
}
