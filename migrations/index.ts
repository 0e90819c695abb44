import { InitialSchema1764000000000 } from "./1764000000000-initial-schema.js";
import { ListingVideo1765300000000 } from "./1765300000000-listing-video.js";

/** Every migration, in order. TypeORM runs the ones not yet in `typeorm_migrations`. */
// biome-ignore lint/complexity/noBannedTypes: TypeORM takes migration classes as Function.
export const MIGRATIONS: Function[] = [InitialSchema1764000000000, ListingVideo1765300000000];
