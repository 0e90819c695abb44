/**
 * The three provider roles (pair selector, video, music): what they are asked and what they return.
 * Embedded defaults live in ./local, real AI adapters in ./replicate and ./xai; the vocabulary they
 * share is the domain's (../domain/vocabulary.ts).
 */
import type {
  AspectRatio,
  CameraMove,
  MusicMood,
  QualityFlag,
  RoomType,
  SceneType,
} from "../domain/vocabulary.js";

/** What a selector knows about one READY photo of the campaign. */
export interface AssetFacts {
  id: string;
  filename: string;
  width: number;
  height: number;
  /** Set by the user; wins over every guess. */
  userRoomType: RoomType | null;
  /** Guessed at ingest from tags, alt text and file name. */
  roomTypeGuess: RoomType;
  tags: string[];
  sharpness: number;
  exposure: number;
  colourfulness: number;
  /** 64-bit difference hash as 16 hex digits. */
  dhash: string;
  flags: QualityFlag[];
  /** Small RGB thumbnail stats for continuity (mean colour 0..255). */
  meanColour?: [number, number, number];
  /** 64-bin colour histogram (normalised), for continuity between a pair. */
  colourHistogram?: number[];
}

export interface ScenePick {
  index: number;
  sceneType: SceneType;
  firstAssetId: string;
  lastAssetId: string;
  cameraMove: CameraMove;
  prompt: string;
  confidence: number;
  reasoning: string;
}

export interface SelectorInput {
  assets: AssetFacts[];
  plan: SceneType[];
  aspectRatio: AspectRatio;
  mood: MusicMood;
  signal?: AbortSignal;
  /** A URL (signed, or a data URI) of the photo, for selectors that look at the images. */
  imageUrl?: (assetId: string) => Promise<string>;
}

export interface PairSelector {
  readonly name: string;
  select(input: SelectorInput): Promise<{ picks: ScenePick[]; costUsd?: number; note?: string }>;
}

/**
 * A timed RGBA layer (title, room caption, AI disclosure) that the clip must carry. A provider
 * that makes or re-encodes frames anyway blends it in that one encode and says so
 * (`overlaysBurned`); otherwise the scene job burns it afterwards.
 */
export interface ClipOverlay {
  /** RGBA PNG the size of the layer's box. */
  png: Uint8Array;
  /** Top-left corner of the box in the frame. */
  x: number;
  y: number;
  /** On screen from `start` to `end`, seconds of the clip. */
  start: number;
  end: number;
  /** The layer's alpha fades in and out over this long (0: hard cut). */
  fadeSeconds: number;
}

export interface VideoRenderRequest {
  firstImagePath: string;
  lastImagePath: string;
  cameraMove: CameraMove;
  prompt: string;
  seconds: number;
  width: number;
  height: number;
  fps: number;
  /** Where the provider writes the clip (MP4, house encoding). */
  outFile: string;
  /** A directory the provider may use for scratch files; removed by the caller. */
  workDir: string;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Signed URLs of the photos, set when a remote provider can reach us (PUBLIC_BASE_URL). */
  firstImageUrl?: string;
  lastImageUrl?: string;
  /** The render attempt's token; remote providers tag their work with it to find it again. */
  attemptToken?: string;
  /** Persists the remote provider's reference (prediction id) before the adapter waits on it. */
  onProviderRef?: (ref: string) => Promise<void>;
  /** A reference stored by an earlier attempt, to adopt instead of starting again. */
  providerRef?: string | null;
  jobId?: string;
  sceneIndex?: number;
  /** Layers the clip carries (see ClipOverlay). */
  overlays?: ClipOverlay[];
}

export interface VideoRenderResult {
  outFile: string;
  costUsd?: number;
  /** The clip carries `request.overlays`, blended in the provider's own encode. */
  overlaysBurned?: boolean;
}

export interface VideoProvider {
  readonly name: string;
  /**
   * Its clips come from a generative video model, not from camera moves over the real photos:
   * they carry the AI-disclosure label.
   */
  readonly generative?: boolean;
  render(request: VideoRenderRequest): Promise<VideoRenderResult>;
}

export interface MusicSegment {
  sceneType: SceneType;
  seconds: number;
}

export interface MusicRequest {
  mood: MusicMood;
  segments: MusicSegment[];
  sampleRate: number;
  /** Where the provider writes the score (WAV, 48 kHz stereo, exactly the total length). */
  outFile: string;
  workDir: string;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export interface MusicProvider {
  readonly name: string;
  compose(request: MusicRequest): Promise<{ outFile: string; costUsd?: number }>;
}
