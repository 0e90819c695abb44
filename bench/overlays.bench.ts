/**
 * What the overlays cost (issue 12), measured side by side in one run on one 1080p scene clip
 * rendered by the embedded provider (a real camera move, not a still):
 * - the baselines: rendering the 4 s clip, and a plain decode + encode of it (house settings,
 *   no filter);
 * - burning the title into the whole clip, a room caption into its first GOP only, the AI
 *   disclosure + caption into the whole clip; rendering a 3 s outro;
 * - a 7-scene composition of both cuts (title, 6 captions, 2 outros) vs the 7 scene renders.
 * Each figure is the median of 3 runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runFfmpeg } from "../src/media/ffmpeg.runner.js";
import { resolveFfmpegBinaries } from "../src/media/ffmpeg-binaries.js";
import { concatListContent, concatReencodeArgs } from "../src/media/ffmpeg-commands.js";
import { LocalVideoProvider } from "../src/providers/local/local-video.provider.js";
import type { SceneType } from "../src/providers/types.js";
import { planComposition } from "../src/render/composition-plan.js";
import { renderCuts } from "../src/render/cut-renderer.js";
import { outroLayer } from "../src/render/outro-card.js";
import { burnOverlaysArgs, outroClipArgs } from "../src/render/overlay-commands.js";
import { captionLayer, disclosureLayer, titleLayer } from "../src/render/overlay-layers.js";
import { outroBackground, rasteriseLayer } from "../src/render/overlay-raster.js";
import { sampleSpec } from "../test/helpers/render-fixtures.js";
import type { Benchmark } from "./benchmarks.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/photos");
const photo = (name: string) => path.join(FIXTURES, name);

const SPEC = sampleSpec();

async function median(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await fn();
    times.push((performance.now() - started) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function run(): Promise<string[]> {
  const { ffmpeg } = resolveFfmpegBinaries({ searchPath: process.env.PATH });
  const dir = mkdtempSync(path.join(os.tmpdir(), "propvid-bench-overlays-"));
  const lines: string[] = [];
  const timeout = { timeoutMs: 300_000 };
  try {
    const provider = new LocalVideoProvider({ ffmpeg });
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
    const scene = await median(3, renderScene);
    // a plain decode + encode of the clip at the house settings, no filter: what any burn adds to
    const list = path.join(dir, "one.ffconcat");
    writeFileSync(list, concatListContent([clip]));
    const reencode = await median(3, () =>
      runFfmpeg(ffmpeg, concatReencodeArgs(list, path.join(dir, "plain.mp4")), timeout),
    );

    const png = async (name: string, layer: Parameters<typeof rasteriseLayer>[0]) => {
      const file = path.join(dir, `${name}.png`);
      writeFileSync(file, await rasteriseLayer(layer));
      return { file, layer };
    };
    let title!: Awaited<ReturnType<typeof png>>;
    let caption!: Awaited<ReturnType<typeof png>>;
    let disclosure!: Awaited<ReturnType<typeof png>>;
    const layers = await median(3, async () => {
      title = await png("title", titleLayer(SPEC));
      caption = await png("caption", captionLayer(SPEC, "Kitchen"));
      disclosure = await png("disclosure", disclosureLayer(SPEC));
    });
    const burn = (name: string, frames: number, items: Array<[typeof title, number, number]>) =>
      median(3, () =>
        runFfmpeg(
          ffmpeg,
          burnOverlaysArgs({
            inFile: clip,
            outFile: path.join(dir, `${name}.mp4`),
            frames,
            layers: items.map(([{ file, layer }, start, end]) => ({
              pngFile: file,
              x: layer.box.x,
              y: layer.box.y,
              start,
              end,
              fadeSeconds: 0.3,
            })),
          }),
          timeout,
        ),
      );
    const titleBurn = await burn("title", 120, [[title, 0, 3]]);
    const captionBurn = await burn("caption", 60, [[caption, 0.4, 1.9]]);
    const aiBurn = await burn("ai", 120, [
      [disclosure, 0, 4],
      [caption, 0.4, 1.9],
    ]);
    const card = await outroLayer(SPEC, "branded");
    const cardFile = path.join(dir, "card.png");
    writeFileSync(cardFile, await rasteriseLayer(card));
    const background = path.join(dir, "background.png");
    writeFileSync(background, await outroBackground(photo("pool-01.jpg"), "LANDSCAPE_16_9"));
    const outro = await median(3, () =>
      runFfmpeg(
        ffmpeg,
        outroClipArgs({
          backgroundFile: background,
          cardFile,
          cardX: card.box.x,
          cardY: card.box.y,
          width: 1920,
          height: 1080,
          seconds: 3,
          outFile: path.join(dir, "outro.mp4"),
        }),
        timeout,
      ),
    );

    // a 7-scene job's composition, both cuts (the same clip stands in for all seven)
    const types: SceneType[] = ["EXTERIOR", "LIVING", "KITCHEN", "DINING", "BEDROOM", "BATH", "OUTDOOR"];
    const plan = planComposition(
      types.map((sceneType, index) => ({ index, clipFile: clip, seconds: 4, sceneType, aiGenerated: false })),
      { brandedOutro: true },
    );
    let timings = { layers: 0, burn: 0, outro: 0 };
    const compose = await median(3, async () => {
      const work = mkdtempSync(path.join(dir, "cuts-"));
      timings = (await renderCuts(plan, SPEC, { ffmpeg, workDir: work, outroPhoto: photo("pool-01.jpg") }))
        .timingsMs;
    });
    const sevenScenes = 7 * scene;

    const s = (value: number) => `${value.toFixed(2)} s`;
    const x = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
    lines.push(
      `baseline: render one 4 s 1080p scene (embedded camera move): ${s(scene)}; plain decode + encode of it: ${s(reencode)}`,
      `overlay PNGs (title, caption, disclosure) rasterised: ${s(layers)}`,
      `burn title into the whole 4 s clip: ${s(titleBurn)} = ${x(titleBurn, reencode)} a plain re-encode, ${x(titleBurn, scene)} a scene render`,
      `burn a caption into the first GOP (2 s) only: ${s(captionBurn)} = ${x(captionBurn, reencode)} a plain re-encode`,
      `burn disclosure + caption into the whole clip (a generated scene): ${s(aiBurn)} = ${x(aiBurn, reencode)} a plain re-encode`,
      `render a 3 s outro (push + card): ${s(outro)} = ${x(outro, reencode)} a plain 4 s re-encode`,
      `7-scene composition, both cuts (plan: ${JSON.stringify(plan.encodedSeconds)} s of video): ${s(compose)} wall ` +
        `(layers ${s(timings.layers / 1000)}, burns ${s(timings.burn / 1000)}, outros ${s(timings.outro / 1000)} summed over 2 parallel runs)`,
      `composition vs rendering the 7 scenes one after another (${s(sevenScenes)}): ${x(compose, sevenScenes)}; ` +
        `per cut ${s(compose / 2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

export const overlaysBenchmark: Benchmark = {
  name: "overlays",
  description: "overlay composition: burn and outro costs vs a plain encode, a 7-scene job's two cuts",
  run,
};
