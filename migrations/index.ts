import { InitialSchema1764000000000 } from "./1764000000000-initial-schema.js";
import { VideoRenditions1765600000000 } from "./1765600000000-video-renditions.js";
import { ShareLinks1765600000001 } from "./1765600000001-share-links.js";

/** Every migration, in order. TypeORM runs the ones not yet in `typeorm_migrations`. */
// biome-ignore lint/complexity/noBannedTypes: TypeORM takes migration classes as Function.
export const MIGRATIONS: Function[] = [
  InitialSchema1764000000000,
  VideoRenditions1765600000000,
  ShareLinks1765600000001,
];
