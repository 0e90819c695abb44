/**
 * The background queue as the services see it: what has to happen next, by name, ids only.
 * Implemented over pg-boss by `PgBossJobQueue` (src/jobs/queues.ts) and injected, so services
 * never import src/jobs (the handlers there sit above the services and call them).
 */
export interface JobQueue {
  planVideo(jobId: string): Promise<void>;
  renderScene(jobId: string, index: number): Promise<void>;
  composeScore(jobId: string): Promise<void>;
  assembleVideo(jobId: string, generation: number): Promise<void>;
  importAssets(importId: string): Promise<void>;
  /** The adaptive-streaming ladder of a job's finished video (after SUCCEEDED). */
  renderRenditions(jobId: string, mediaId: string): Promise<void>;
}
