import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cameraPath, coverViewport } from "../../src/providers/local/camera-move.js";
import { focusOfCrop, framedFormat } from "../../src/providers/local/photo-decoder.js";

describe("salient framing of the camera move", () => {
  it("frames portrait and square outputs, leaves landscape (and odd aspects) centred", () => {
    assert.equal(framedFormat({ width: 1080, height: 1920 }), "PORTRAIT_9_16");
    assert.equal(framedFormat({ width: 360, height: 640 }), "PORTRAIT_9_16");
    assert.equal(framedFormat({ width: 1080, height: 1350 }), "PORTRAIT_4_5");
    assert.equal(framedFormat({ width: 720, height: 720 }), "SQUARE_1_1");
    assert.equal(framedFormat({ width: 1920, height: 1080 }), null);
    assert.equal(framedFormat({ width: 600, height: 900 }), null);
  });

  it("turns a salient crop into the cover fit's focus, so the move starts on that crop", () => {
    const photo = { width: 1600, height: 900 };
    const output = { width: 1080, height: 1920 };
    // a 9:16 crop of a 16:9 photo: 506 px wide, here at the right-hand quarter
    const crop = { x: 1000, y: 0, width: 506, height: 900 };
    const focus = focusOfCrop(crop, photo);
    assert.ok(Math.abs(focus.x - 1000 / (1600 - 506)) < 1e-12);
    assert.equal(focus.y, 0.5, "no room vertically: centred");
    const cover = coverViewport(photo, output, focus);
    assert.ok(Math.abs(cover.x - crop.x) < 1, `the cover fit sits on the crop (x ${cover.x})`);
    // the move's viewports stay around the crop, far from the blind centre crop at x = 547
    const path = cameraPath("PUSH_IN", photo, output, focus);
    for (const view of [path.from, path.to]) {
      const centre = view.x + view.w / 2;
      assert.ok(Math.abs(centre - (crop.x + crop.width / 2)) < 60, `centre ${centre}`);
    }
  });

  it("clamps crops at the photo's edges and centres when there is no room", () => {
    const photo = { width: 1000, height: 1000 };
    assert.deepEqual(focusOfCrop({ x: 0, y: 0, width: 1000, height: 1000 }, photo), { x: 0.5, y: 0.5 });
    assert.deepEqual(focusOfCrop({ x: 0, y: 0, width: 563, height: 1000 }, photo), { x: 0, y: 0.5 });
    assert.deepEqual(focusOfCrop({ x: 437, y: 0, width: 563, height: 1000 }, photo), { x: 1, y: 0.5 });
    assert.deepEqual(focusOfCrop({ x: 0, y: 700, width: 1000, height: 300 }, photo), { x: 0.5, y: 1 });
  });
});
