/**
 * sharp as every propvid module imports it: with libvips's operation cache off.
 *
 * The cache is process-wide, and sharp switches it on (50 MB, 20 open files, 100 operations)
 * each time a thread loads it: a media thread started after the main thread had switched it off
 * switched it back on. The cache then held the last photo decodes, and with them the mappings of
 * their temp files (deleted, but kept on disk and resident): 5 × 45 MB of a server's memory after
 * a burst of large uploads. Importing sharp only from here switches it off again in every thread
 * that loads it, before that thread decodes anything.
 */
import sharp from "sharp";

sharp.cache(false);

export default sharp;
export type { OutputInfo, Sharp } from "sharp";
