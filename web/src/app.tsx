import { Anchor, AppShell, Button, Group, MantineProvider } from "@mantine/core";
import { Link, Route, Switch } from "wouter";
import { CampaignPage } from "./pages/campaign.page.js";
import { CampaignsPage } from "./pages/campaigns.page.js";
import { JobPage } from "./pages/job.page.js";
import { NotFoundPage } from "./pages/not-found.page.js";
import { SignInPage } from "./pages/sign-in.page.js";
import { SessionProvider, useSessionControls } from "./session/session.context.js";
import type { SessionStore } from "./session/session.store.js";
import { cssVariablesResolver, theme } from "./theme.js";

export function App({ store }: { store: SessionStore }) {
  return (
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="light">
      <SessionProvider store={store}>
        <Shell />
      </SessionProvider>
    </MantineProvider>
  );
}

/** Client routes; the server answers every one of them with index.html. */
function Routes() {
  return (
    <Switch>
      <Route path="/">
        <CampaignsPage />
      </Route>
      <Route path="/campaigns/:id">
        {(params) => <CampaignPage key={params.id} campaignId={params.id} />}
      </Route>
      <Route path="/jobs/:id">{(params) => <JobPage key={params.id} jobId={params.id} />}</Route>
      <Route>
        <NotFoundPage />
      </Route>
    </Switch>
  );
}

function Shell() {
  const { session } = useSessionControls();
  return (
    <AppShell header={{ height: 56 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Anchor component={Link} href="/" underline="never" c="dark" fw={700} fz="xl">
            propvid
          </Anchor>
          {session && (
            <Button variant="default" onClick={() => session.signOut("You have signed out.")}>
              Sign out
            </Button>
          )}
        </Group>
      </AppShell.Header>
      <AppShell.Main>{session ? <Routes /> : <SignInPage />}</AppShell.Main>
    </AppShell>
  );
}
