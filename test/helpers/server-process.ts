import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import path from "node:path";
import { fixturePhoto, PROJECT_ROOT } from "./fixtures.js";

export const MAIN = path.join(PROJECT_ROOT, "dist", "src", "main.js");

export interface ServerProcess {
  /** Where it listens; "" for `--role worker`, which opens no port. */
  url: string;
  child: ChildProcess;
  /** Everything the process printed, stdout and stderr. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Node arguments for tests that bound what a server *retains*: V8's young generation pinned at
 * 16 MB a semi-space (Node 20's largest), at its full size from the start. Node 24 sizes it from
 * the machine, up to 64 MB here, and its garbage then shows as 60 MB more resident anonymous
 * memory that is not held (measured: the stalled-log test 77 MB on Node 24's default, 18 MB with
 * the maximum set, 7 MB on Node 20). With only the maximum set, the young generation still grew
 * from its small start during the measured load on some runs and not others: the 20-upload test
 * read 38–46 MB of growth, and once 64.1. The minimum is not allowed in NODE_OPTIONS, hence
 * arguments (`startServerProcess(…, nodeArgs)`).
 */
export const PINNED_YOUNG_GENERATION = ["--min-semi-space-size=16", "--max-semi-space-size=16"];

/** Environment for a child propvid: the parent's, minus settings tests must set explicitly. */
export function childEnv(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "test", LOG_LEVEL: "info", PORT: "0" };
  delete env.DATABASE_URL;
  delete env.PROPVID_DATA_DIR;
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts `propvid serve` (any role) and waits for its "propvid is up" line. */
export async function startServerProcess(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  timeoutMs = 60_000,
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const started = await startPropvid(
    env,
    args,
    /"address":"(http:\/\/[^"]+)"[^\n]*"msg":"propvid is up"/,
    timeoutMs,
    nodeArgs,
  );
  return { ...started, url: started.match[1]! };
}

/** Starts `propvid serve --role worker` (it opens no port) and waits for "propvid is up". */
export async function startWorkerProcess(env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ServerProcess> {
  const started = await startPropvid(env, ["--role", "worker"], /"msg":"propvid is up"/, timeoutMs);
  return { ...started, url: "" };
}

async function startPropvid(
  env: NodeJS.ProcessEnv,
  args: string[],
  up: RegExp,
  timeoutMs: number,
  nodeArgs: readonly string[] = [],
): Promise<Omit<ServerProcess, "url"> & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...nodeArgs, MAIN, "serve", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running: a test whose setup failed must still be able to exit.
      child.kill("SIGKILL");
      reject(new Error(`propvid did not start:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = up.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`propvid exited with ${code}:\n${output}`));
    });
  });
  return {
    match,
    child,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, "exit")) as [number | null];
      return code;
    },
  };
}

/** A free loopback port (reserved and released; good enough for tests). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Creates a campaign through the API and uploads fixture photos into it; returns its id. */
export async function campaignThroughApi(
  url: string,
  key: string,
  name: string,
  photos: string[],
): Promise<string> {
  const campaign = await gql<{ createCampaign: { id: string } }>(
    url,
    key,
    "mutation($name: String!) { createCampaign(input: { name: $name }) { id } }",
    { name },
  );
  const campaignId = campaign.body.data!.createCampaign.id;
  for (const photo of photos) {
    const form = new FormData();
    form.append("file", new Blob([await readFile(fixturePhoto(photo))]), photo);
    const response = await fetch(`${url}/v1/campaigns/${campaignId}/assets`, {
      method: "POST",
      headers: { "x-api-key": key },
      body: form,
    });
    if (response.status !== 200)
      throw new Error(`upload of ${photo}: ${response.status} ${await response.text()}`);
  }
  return campaignId;
}

/** Runs the CLI to completion; returns its exit code and output. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

export async function gql<T = Record<string, unknown>>(
  url: string,
  key: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as never };
}
