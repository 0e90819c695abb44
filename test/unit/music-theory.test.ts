import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MUSIC_MOODS } from "../../src/domain/vocabulary.js";
import {
  CHORD_INTERVALS,
  chordName,
  chordPitchClasses,
  clashesWith,
  midiToHz,
  moodProfile,
  nearestPitch,
  PAD_RANGE,
  padPitchClasses,
  scalePool,
  voiceLead,
} from "../../src/providers/local/music-theory.js";

const mod12 = (n: number): number => ((n % 12) + 12) % 12;

describe("midiToHz", () => {
  it("follows equal temperament from A4 = 440 Hz", () => {
    assert.equal(midiToHz(69), 440);
    assert.equal(midiToHz(81), 880);
    assert.ok(Math.abs(midiToHz(60) - 261.6256) < 1e-3);
  });
});

describe("mood profiles", () => {
  it("give each mood its own tempo and key", () => {
    const expected = { LUXURY: 72, MODERN: 100, WARM: 84, UPBEAT: 118, CALM: 64 };
    for (const mood of MUSIC_MOODS) assert.equal(moodProfile(mood).bpm, expected[mood], mood);
    const keys = new Set(MUSIC_MOODS.map((m) => `${moodProfile(m).tonic}/${moodProfile(m).mode}`));
    assert.equal(keys.size, MUSIC_MOODS.length);
    assert.equal(moodProfile("MODERN").mode, "minor");
    assert.equal(moodProfile("LUXURY").mode, "major");
  });

  it("end on a real cadence: V–I or IV–I onto the tonic", () => {
    for (const mood of MUSIC_MOODS) {
      const { cadence } = moodProfile(mood);
      assert.equal(cadence.tonic.degree, 1, mood);
      assert.equal(cadence.cadential.degree, cadence.kind === "authentic" ? 5 : 4, mood);
    }
  });

  it("use the palette the brief describes", () => {
    assert.equal(moodProfile("LUXURY").arp.instrument, "keys");
    assert.equal(moodProfile("WARM").arp.instrument, "pluck");
    assert.equal(moodProfile("UPBEAT").percussion, "pop");
    assert.equal(moodProfile("CALM").percussion, "none");
    assert.ok(moodProfile("MODERN").pump > 0);
    const luxuryChords = moodProfile("LUXURY").progression.map((c) => c.quality);
    assert.ok(luxuryChords.some((q) => q === "maj9" || q === "maj7" || q === "add9"));
  });
});

describe("chords", () => {
  it("spell chords in the key", () => {
    // E♭ major: I = E♭ G B♭ D F.
    assert.deepEqual(chordPitchClasses(3, "major", { degree: 1, quality: "maj9" }), [3, 7, 10, 2, 5]);
    // A minor: VI = F A C E.
    assert.deepEqual(chordPitchClasses(9, "minor", { degree: 6, quality: "maj7" }), [5, 9, 0, 4]);
    assert.equal(chordName(3, "major", { degree: 5, quality: "dom9" }), "Bb9");
    assert.equal(chordName(9, "minor", { degree: 1, quality: "m9" }), "Am9");
  });

  it("voice four notes: drop the fifth of five-note chords, double the root of triads", () => {
    assert.deepEqual(padPitchClasses([0, 4, 7, 11, 2]), [0, 4, 11, 2]);
    assert.deepEqual(padPitchClasses([0, 4, 7]), [0, 4, 7, 0]);
    assert.deepEqual(padPitchClasses([0, 4, 7, 2]), [0, 4, 7, 2]);
  });

  it("every quality starts on its root", () => {
    for (const intervals of Object.values(CHORD_INTERVALS)) assert.equal(intervals[0], 0);
  });
});

describe("voiceLead", () => {
  it("places every pitch class in range with no semitone or minor-ninth rubs", () => {
    for (const mood of MUSIC_MOODS) {
      const p = moodProfile(mood);
      let previous: number[] | null = null;
      for (const chord of [
        ...p.progression,
        ...p.progression,
        p.cadence.approach,
        p.cadence.cadential,
        p.cadence.tonic,
      ]) {
        const pcs = padPitchClasses(chordPitchClasses(p.tonic, p.mode, chord));
        const voicing = voiceLead(previous, pcs, PAD_RANGE);
        assert.equal(voicing.length, 4);
        assert.deepEqual(
          new Set(voicing.map(mod12)),
          new Set(pcs),
          `${mood} ${chord.degree}${chord.quality}`,
        );
        for (const note of voicing) assert.ok(note >= PAD_RANGE.low && note <= PAD_RANGE.high);
        for (let i = 0; i < voicing.length; i++) {
          for (let j = i + 1; j < voicing.length; j++) {
            const gap = voicing[j] - voicing[i];
            assert.ok(gap !== 1 && gap !== 13, `${mood}: ${voicing.join(",")}`);
          }
        }
        previous = voicing;
      }
    }
  });

  it("moves voices by small steps and keeps common tones", () => {
    // C major → A minor share C and E; the voicing should keep them and move G to A.
    const cMajor = voiceLead(null, [0, 4, 7, 0], PAD_RANGE);
    const aMinor = voiceLead(cMajor, [9, 0, 4, 9], PAD_RANGE);
    const kept = cMajor.filter((n) => aMinor.includes(n));
    assert.ok(kept.length >= 2, `${cMajor} → ${aMinor}`);
    for (const note of aMinor) {
      const step = Math.min(...cMajor.map((m) => Math.abs(note - m)));
      assert.ok(step <= 3, `a voice leapt ${step} semitones: ${cMajor} → ${aMinor}`);
    }
  });

  it("keeps a long progression near the centre of the range", () => {
    const p = moodProfile("UPBEAT");
    let voicing: number[] | null = null;
    for (let i = 0; i < 32; i++) {
      const chord = p.progression[i % p.progression.length];
      voicing = voiceLead(voicing, padPitchClasses(chordPitchClasses(p.tonic, p.mode, chord)), PAD_RANGE);
      const mean = voicing.reduce((a, b) => a + b, 0) / voicing.length;
      assert.ok(Math.abs(mean - PAD_RANGE.centre) <= 8, `drifted to ${mean}`);
    }
  });
});

describe("melodic helpers", () => {
  it("nearestPitch finds the closest note of the set, within bounds", () => {
    assert.equal(nearestPitch([0, 4, 7], 65, 48, 84), 64);
    assert.equal(nearestPitch([0], 66, 60, 71), 60);
    assert.equal(nearestPitch([0], 66, 61, 84), 72);
  });

  it("scalePool lists the pentatonic notes in range", () => {
    assert.deepEqual(scalePool(0, [0, 2, 4, 7, 9], 60, 72), [60, 62, 64, 67, 69, 72]);
  });

  it("flags a note a semitone above a chord tone", () => {
    assert.equal(clashesWith(60, [7, 11, 2]), true); // C over G7's B
    assert.equal(clashesWith(64, [0, 4, 7]), false);
  });
});
