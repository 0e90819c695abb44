import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RoomType } from "../../src/domain/vocabulary.js";
import { guessRoomType, tokenize } from "../../src/media/room-type.js";
import { fixturePhotoNames, isKeeper, roomOfKeeper } from "../helpers/fixtures.js";

const fromName = (filename: string) => guessRoomType({ filename, tags: [] });

describe("tokenize", () => {
  it("splits file names on separators, digits and camelCase and drops the extension", () => {
    assert.deepEqual(tokenize("MasterBedroom_02.JPG", { isFilename: true }), ["master", "bedroom"]);
    assert.deepEqual(tokenize("living-room.3.webp", { isFilename: true }), ["living", "room"]);
    assert.deepEqual(tokenize("IMGKitchen01", { isFilename: true }), ["img", "kitchen"]);
    assert.deepEqual(tokenize("Façade at dusk!"), ["façade", "at", "dusk"]);
  });
});

describe("guessRoomType", () => {
  it("maps every keeper fixture to the room in its name", () => {
    for (const name of fixturePhotoNames().filter(isKeeper)) {
      const guess = fromName(name);
      assert.ok(roomOfKeeper(name), name);
      assert.equal(guess.roomType, roomOfKeeper(name), name);
      assert.equal(guess.source, "filename");
      assert.ok(guess.confidence > 0 && guess.confidence <= 0.6, `${name}: ${guess.confidence}`);
    }
  });

  it("treats reject fixtures by their words only (no special case for 'reject')", () => {
    assert.equal(fromName("reject-dup-of-living-01.jpg").roomType, "LIVING");
    assert.equal(fromName("reject-dup-of-dining-03.jpg").roomType, "DINING");
    assert.equal(fromName("reject-floorplan-01.jpg").roomType, "FLOOR_PLAN");
    for (const name of ["reject-blurry-01.jpg", "reject-dark-01.jpg", "reject-offtopic-01.jpg"]) {
      assert.deepEqual(fromName(name), { roomType: "UNKNOWN", source: "none", confidence: 0 }, name);
    }
  });

  it("knows camera names carry nothing", () => {
    for (const name of ["IMG_0001.jpg", "DSC01234.JPG", "PXL_20240101_101010.jpg", "photo.png"]) {
      assert.equal(fromName(name).roomType, "UNKNOWN", name);
    }
  });

  it("prefers tags, then alt text, then the file name", () => {
    const all = guessRoomType({
      filename: "kitchen.jpg",
      tags: ["Master Suite"],
      altText: "A bright living room",
    });
    assert.deepEqual([all.roomType, all.source], ["BEDROOM", "tags"]);
    const alt = guessRoomType({ filename: "kitchen.jpg", tags: ["sunny"], altText: "A bright living room" });
    assert.deepEqual([alt.roomType, alt.source], ["LIVING", "alt"]);
    const file = guessRoomType({ filename: "kitchen.jpg", tags: [], altText: null });
    assert.deepEqual([file.roomType, file.source], ["KITCHEN", "filename"]);
    assert.ok(all.confidence > alt.confidence && alt.confidence > file.confidence);
  });

  it("reads the word table: phrases, synonyms and weak words", () => {
    const cases: [string, RoomType][] = [
      ["master bathroom with double vanity", "BATH"],
      ["master suite", "BEDROOM"],
      ["ensuite", "BATH"],
      ["walk-in shower", "BATH"],
      ["family room", "LIVING"],
      ["cosy lounge", "LIVING"],
      ["open-plan dining room", "DINING"],
      ["backyard patio", "POOL"],
      ["swimming pool at sunset", "POOL"],
      ["ocean view", "VIEW"],
      ["city skyline", "VIEW"],
      ["coastline", "VIEW"],
      ["front of the house from the street", "EXTERIOR"],
      ["curb appeal", "EXTERIOR"],
      ["floor plan", "FLOOR_PLAN"],
      ["home office", "OTHER"],
      // A room named outright beats what it looks onto.
      ["living room with ocean views", "LIVING"],
      ["view of the kitchen", "KITCHEN"],
    ];
    for (const [text, roomType] of cases) {
      assert.equal(guessRoomType({ filename: "x.jpg", tags: [], altText: text }).roomType, roomType, text);
    }
  });

  it("is less sure of a lone weak word or a mixed description", () => {
    const strong = guessRoomType({ filename: "x.jpg", tags: [], altText: "kitchen" });
    const weak = guessRoomType({ filename: "x.jpg", tags: [], altText: "nice view" });
    const mixed = guessRoomType({ filename: "x.jpg", tags: [], altText: "kitchen and dining" });
    assert.ok(weak.confidence < strong.confidence);
    assert.ok(mixed.confidence < strong.confidence);
  });

  it("does not join words across tags", () => {
    assert.equal(guessRoomType({ filename: "x.jpg", tags: ["living", "room"] }).roomType, "LIVING");
    assert.equal(guessRoomType({ filename: "x.jpg", tags: ["floor", "plan"] }).roomType, "UNKNOWN");
  });
});
