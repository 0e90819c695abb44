import type { Services } from "../container.js";
import type { JobHandler } from "./worker.js";

/** Imports the photos of one import request (URL list or listing page). */
export const importAssetsJob =
  (services: Services): JobHandler<"asset.import"> =>
  async ({ importId }) => {
    await services.imports.run(importId);
  };
