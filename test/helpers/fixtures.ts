import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RoomType } from "../../src/domain/vocabulary.js";

/** Project root: this file compiles to dist/test/helpers/fixtures.js. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The shared, licensed listing photos (../shared beside the project; CI has it). */
export const FIXTURE_PHOTOS_DIR = path.resolve(PROJECT_ROOT, "../shared/fixtures/photos");

export function fixturePhoto(name: string): string {
  const file = path.join(FIXTURE_PHOTOS_DIR, name);
  if (!existsSync(file)) throw new Error(`fixture photo missing: ${file}`);
  return file;
}

export function fixturePhotoNames(): string[] {
  return readdirSync(FIXTURE_PHOTOS_DIR)
    .filter((name) => name.endsWith(".jpg"))
    .sort();
}

export const isKeeper = (name: string): boolean => !name.startsWith("reject-");

const ROOM_OF_PREFIX: Record<string, RoomType> = {
  exterior: "EXTERIOR",
  pool: "POOL",
  living: "LIVING",
  kitchen: "KITCHEN",
  bedroom: "BEDROOM",
  bath: "BATH",
  dining: "DINING",
  view: "VIEW",
};

/** The room a keeper fixture shows, from its name (`kitchen-02.jpg` → KITCHEN). */
export const roomOfKeeper = (name: string): RoomType | undefined => ROOM_OF_PREFIX[name.split("-")[0]!];
