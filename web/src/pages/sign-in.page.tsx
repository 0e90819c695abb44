import { Alert, Button, Container, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { ProblemAlert } from "../components/problem-alert.js";
import { useSessionControls } from "../session/session.context.js";

export function SignInPage() {
  const { signIn, notice } = useSessionControls();
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(await signIn(key));
    setBusy(false);
  };

  return (
    <Container size="xs" py="xl">
      <form onSubmit={submit}>
        <Stack>
          <Title order={1}>Sign in</Title>
          <Text>
            Paste an API key of this propvid server. The first <code>npm start</code> prints an admin key;{" "}
            <code>propvid keys create --tenant NAME</code> makes more. The key stays in this browser tab only.
          </Text>
          {notice && !problem && (
            <Alert color="blue" variant="light" role="status">
              {notice}
            </Alert>
          )}
          <PasswordInput
            label="API key"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(event) => setKey(event.currentTarget.value)}
            required
            data-autofocus
          />
          <ProblemAlert message={problem} title="Not signed in" />
          <Button type="submit" loading={busy}>
            Sign in
          </Button>
        </Stack>
      </form>
    </Container>
  );
}
