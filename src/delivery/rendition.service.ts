import { createReadStream } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { DataSource } from "typeorm";
import { VideoRenditionEntity } from "../db/entities/video-rendition.entity.js";
import type { Logger } from "../logger.js";
import { probeMedia, runFfmpeg, withTempDir } from "../media/ffmpeg.runner.js";
import type { FfmpegBinaries } from "../media/ffmpeg-binaries.js";
import type { MediaStore } from "../media/media.store.js";
import { planRenditions, renditionFiles, renditionsArgs } from "./rendition-commands.js";
import { codecsFromInit, indexFromPlaylist } from "./rendition-index.js";

const MAX_RENDITION_BYTES = 2 * 1024 * 1024 * 1024;
const RENDITIONS_TIMEOUT_MS = 15 * 60_000;

/**
 * The adaptive-streaming ladder of a video media row (any cut): made once, after the job has
 * already SUCCEEDED, and read by the playlists. Each rendition is one fMP4 in one large object.
 */
export class RenditionService {
  constructor(
    private readonly deps: {
      dataSource: DataSource;
      media: MediaStore;
      ffmpeg: FfmpegBinaries;
      logger: Logger;
    },
  ) {}

  /** The renditions of these source videos, largest first. */
  async bySources(tenantId: string, sourceMediaIds: readonly string[]): Promise<VideoRenditionEntity[]> {
    if (sourceMediaIds.length === 0) return [];
    return await this.deps.dataSource
      .getRepository(VideoRenditionEntity)
      .createQueryBuilder("r")
      .where("r.tenant_id = :tenantId AND r.source_media_id = ANY(:ids)", { tenantId, ids: sourceMediaIds })
      .orderBy("r.height * r.width", "DESC")
      .getMany();
  }

  /**
   * Makes the ladder of a video unless it exists (idempotent: a retry after a crash stores the
   * same bytes, which the media store dedupes, and the rows' unique key keeps one set).
   */
  async produce(
    tenantId: string,
    sourceMediaId: string,
    signal?: AbortSignal,
  ): Promise<VideoRenditionEntity[]> {
    const existing = await this.bySources(tenantId, [sourceMediaId]);
    if (existing.length > 0) return existing;
    const source = await this.deps.media.byId(tenantId, sourceMediaId);
    if (!source) return [];
    const { ffmpeg, logger } = this.deps;
    const log = logger.child({ tenantId, mediaId: sourceMediaId, part: "renditions" });
    const rows = await withTempDir("propvid-renditions", async (dir) => {
      const input = path.join(dir, "source.mp4");
      await this.deps.media.toFile(source, input, signal);
      const info = await probeMedia(ffmpeg.ffprobe, input, { timeoutMs: 60_000, signal });
      const video = info.streams.find((stream) => stream.type === "video");
      if (!video?.width || !video.height) throw new Error("the source video has no video stream");
      const planned = planRenditions(video.width, video.height);
      const started = Date.now();
      await runFfmpeg(ffmpeg.ffmpeg, renditionsArgs({ input, dir, planned, fps: video.fps ?? 30 }), {
        timeoutMs: RENDITIONS_TIMEOUT_MS,
        signal,
        logger: log,
        // Background work: the lowest priority, behind requests, renders and other jobs' assembly.
        niceness: 19,
      });
      log.info(
        { ms: Date.now() - started, renditions: planned.map((plan) => plan.label) },
        "renditions encoded",
      );
      const made: Omit<VideoRenditionEntity, "id" | "createdAt">[] = [];
      for (const plan of planned) {
        const files = renditionFiles(dir, plan.label);
        const byteSize = (await stat(files.video)).size;
        const index = indexFromPlaylist(await readFile(files.playlist, "utf8"), byteSize);
        const codecs = codecsFromInit(await readHead(files.video, index.segments.init[1]));
        const stored = await this.deps.media.store(tenantId, createReadStream(files.video), {
          contentType: "video/mp4",
          maxBytes: MAX_RENDITION_BYTES,
          signal,
        });
        made.push({
          tenantId,
          sourceMediaId,
          mediaId: stored.media.id,
          label: plan.label,
          width: plan.width,
          height: plan.height,
          codecs,
          ...index,
        });
      }
      return made;
    });
    await this.deps.dataSource
      .createQueryBuilder()
      .insert()
      .into(VideoRenditionEntity)
      .values(rows)
      .orIgnore()
      .execute();
    return await this.bySources(tenantId, [sourceMediaId]);
  }
}

/** The first `length` bytes of a file (a rendition's init section: a few kB). */
async function readHead(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
