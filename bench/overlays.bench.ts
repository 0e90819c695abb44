/**
 * What the overlays cost (issue 12), measured side by side in one run on one 1080p scene clip
 * rendered by the embedded provider (a real camera move, not a still):
 * - the baselines: rendering the 4 s clip, and a plain decode + encode of it (house settings,
 *   no filter);
 * - burning the title into the whole clip, a room caption into its first GOP only, the AI
 *   disclosure + caption into the whole clip; rendering a 3 s outro;
 * - blending the title into 120 raw 1080p frames in JS (frame-compositor.ts): what the title
 *   costs when it rides on the clip's own encode instead;
 * - a 7-scene composition of both cuts (title, 6 captions, 2 outros) vs the 7 scene renders.
 * The steps run in rounds (each step once per round, 3 rounds) so that load from other work on
 * a shared machine spreads over all of them; each figure is a median. Besides wall time it
 * reports CPU seconds (this process and the FFmpeg children it waited for), which other load
 * hardly moves.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SceneType } from "../src/domain/vocabulary.js";
import { runFfmpeg } from "../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../src/media/ffmpeg-binaries.js";
import { concatListContent, concatReencodeArgs } from "../src/media/ffmpeg-commands.js";
import { LocalVideoProvider } from "../src/providers/local/local-video.provider.js";
import { planComposition } from "../src/render/composition-plan.js";
import { renderCuts } from "../src/render/cut-renderer.js";
import { blendYuvLayer, layerOpacityAt, yuvLayerFromPng } from "../src/render/frame-compositor.js";
import { outroLayer } from "../src/render/outro-card.js";
import { type BurnLayer, burnOverlaysArgs, outroClipArgs } from "../src/render/overlay-commands.js";
import {
  captionLayer,
  disclosureLayer,
  type OverlayLayer,
  titleLayer,
} from "../src/render/overlay-layers.js";
import { outroBackground, rasteriseLayer } from "../src/render/overlay-raster.js";
import { createMediaWorkerPool } from "../src/workers/media-tasks.js";
import { sampleSpec } from "../test/helpers/render-fixtures.js";
import type { Benchmark } from "./benchmarks.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/photos");
const photo = (name: string) => path.join(FIXTURES, name);
const SPEC = sampleSpec();
const ROUNDS = 3;

/** CPU seconds of this process plus its waited-for children (Linux /proc; CLK_TCK 100). */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    // after "pid (comm) ": state is field 0, cutime and cstime are fields 13 and 14
    children = (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    children = Number.NaN;
  }
  return (own.user + own.system) / 1e6 + children;
}

interface Figure {
  wall: number;
  cpu: number;
}

type Step = () => Promise<unknown>;

/** Runs every step once per round; returns each step's median wall and CPU seconds. */
async function inRounds(steps: Record<string, Step>): Promise<Record<string, Figure>> {
  const samples: Record<string, Figure[]> = {};
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, step] of Object.entries(steps)) {
      const wall = performance.now();
      const cpu = cpuSeconds();
      await step();
      const list = samples[name] ?? [];
      list.push({ wall: (performance.now() - wall) / 1000, cpu: cpuSeconds() - cpu });
      samples[name] = list;
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return Object.fromEntries(
    Object.entries(samples).map(([name, list]) => [
      name,
      { wall: median(list.map((f) => f.wall)), cpu: median(list.map((f) => f.cpu)) },
    ]),
  );
}

async function run(): Promise<string[]> {
  const { ffmpeg } = resolveFfmpegBinaries({ searchPath: process.env.PATH });
  const dir = mkdtempSync(path.join(os.tmpdir(), "propvid-bench-overlays-"));
  const timeout = { timeoutMs: 600_000 };
  const workers = createMediaWorkerPool({ size: 1 });
  try {
    const provider = new LocalVideoProvider({ ffmpeg, workers });
    const clip = path.join(dir, "scene.mp4");
    const renderScene = () =>
      provider.render({
        firstImagePath: photo("kitchen-02.jpg"),
        lastImagePath: photo("kitchen-03.jpg"),
        cameraMove: "PUSH_IN",
        prompt: "",
        seconds: 4,
        width: 1920,
        height: 1080,
        fps: 30,
        outFile: clip,
        workDir: dir,
      });
    await renderScene(); // the clip every other step reads
    const list = path.join(dir, "one.ffconcat");
    writeFileSync(list, concatListContent([clip]));

    const placed = async (name: string, layer: OverlayLayer) => {
      const file = path.join(dir, `${name}.png`);
      writeFileSync(file, await rasteriseLayer(layer));
      return { file, layer };
    };
    const title = await placed("title", titleLayer(SPEC));
    const caption = await placed("caption", captionLayer(SPEC, "Kitchen"));
    const disclosure = await placed("disclosure", disclosureLayer(SPEC));
    const at = (item: typeof title, start: number, end: number): BurnLayer => ({
      pngFile: item.file,
      x: item.layer.box.x,
      y: item.layer.box.y,
      start,
      end,
      fadeSeconds: 0.3,
    });
    const burn = (name: string, frames: number, layers: BurnLayer[]) => () =>
      runFfmpeg(
        ffmpeg,
        burnOverlaysArgs({ inFile: clip, outFile: path.join(dir, `${name}.mp4`), frames, layers }),
        timeout,
      );
    const card = await outroLayer(SPEC, "branded");
    const cardFile = path.join(dir, "card.png");
    writeFileSync(cardFile, await rasteriseLayer(card));
    const background = path.join(dir, "background.png");
    writeFileSync(background, await outroBackground(photo("pool-01.jpg"), "LANDSCAPE_16_9"));
    const outroArgs = outroClipArgs({
      backgroundFile: background,
      cards: [{ cardFile, cardX: card.box.x, cardY: card.box.y, outFile: path.join(dir, "outro.mp4") }],
      width: 1920,
      height: 1080,
      seconds: 3,
    });
    // a 7-scene job's composition, both cuts (the same clip stands in for all seven)
    const types: SceneType[] = ["EXTERIOR", "LIVING", "KITCHEN", "DINING", "BEDROOM", "BATH", "OUTDOOR"];
    const plan = planComposition(
      types.map((sceneType, index) => ({ index, clipFile: clip, seconds: 4, sceneType, aiGenerated: false })),
      { brandedOutro: true },
    );

    const titleYuv = await yuvLayerFromPng(readFileSync(title.file), title.layer.box);
    const rawFrame = new Uint8Array(1920 * 1080 * 1.5);
    const figures = await inRounds({
      scene: renderScene,
      plain: () => runFfmpeg(ffmpeg, concatReencodeArgs(list, path.join(dir, "plain.mp4")), timeout),
      layers: async () => {
        for (const layer of [titleLayer(SPEC), captionLayer(SPEC, "Kitchen"), disclosureLayer(SPEC)]) {
          await rasteriseLayer(layer);
        }
      },
      title: burn("title", 120, [at(title, 0, 3)]),
      caption: burn("caption", 60, [at(caption, 0.4, 1.9)]),
      generated: burn("generated", 120, [{ ...at(disclosure, 0, 4), fadeSeconds: 0 }, at(caption, 0.4, 1.9)]),
      outro: () => runFfmpeg(ffmpeg, outroArgs, timeout),
      blend: async () => {
        for (let frame = 0; frame < 120; frame += 1) {
          blendYuvLayer(
            rawFrame,
            1920,
            1080,
            titleYuv,
            layerOpacityAt(frame / 30, { start: 0, end: 3, fadeSeconds: 0.3 }),
          );
        }
      },
      composition: async () => {
        const work = mkdtempSync(path.join(dir, "cuts-"));
        await renderCuts(plan, SPEC, { ffmpeg, workDir: work, outroPhoto: photo("pool-01.jpg") });
        rmSync(work, { recursive: true, force: true });
      },
    });

    const { scene, plain } = figures;
    const show = (name: string, what: string) => {
      const f = figures[name]!;
      return (
        `${what}: ${f.wall.toFixed(2)} s wall, ${f.cpu.toFixed(2)} s CPU = ` +
        `${(f.cpu / plain!.cpu).toFixed(2)}× the plain encode's CPU, ${(f.cpu / scene!.cpu).toFixed(2)}× a scene render's`
      );
    };
    const compose = figures.composition!;
    return [
      `baselines: render one 4 s 1080p scene (embedded camera move) ${scene!.wall.toFixed(2)} s wall, ${scene!.cpu.toFixed(2)} s CPU; ` +
        `plain decode + encode of it ${plain!.wall.toFixed(2)} s wall, ${plain!.cpu.toFixed(2)} s CPU`,
      show("layers", "rasterise the title, caption and disclosure PNGs"),
      show("title", "burn the title into the whole 4 s clip"),
      show("caption", "burn a caption into the first GOP (2 s) only"),
      show("generated", "burn disclosure + caption into the whole clip (a generated scene)"),
      show("outro", "render a 3 s outro (push + card)"),
      show("blend", "blend the title into 120 raw 1080p YUV frames in JS (no extra encode)"),
      `${show("composition", "7-scene job, both cuts")} (plan, seconds of video: ${JSON.stringify(plan.encodedSeconds)})`,
      `7-scene job, both cuts vs rendering its 7 scenes: ${(compose.cpu / (7 * scene!.cpu)).toFixed(2)}× the CPU ` +
        `(${compose.cpu.toFixed(1)} s vs ${(7 * scene!.cpu).toFixed(1)} s); per cut ${(compose.cpu / 2).toFixed(1)} s CPU`,
    ];
  } finally {
    await workers.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const overlaysBenchmark: Benchmark = {
  name: "overlays",
  description: "overlay composition: burn and outro costs vs a plain encode, a 7-scene job's two cuts",
  run,
};
