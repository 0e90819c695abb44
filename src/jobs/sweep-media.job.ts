import type { Services } from "../container.js";
import { sweepMedia } from "../media/media-references.js";
import type { JobHandler } from "./worker.js";

/** Hourly: expired pending uploads, unreferenced media, ownerless large objects. */
export const sweepMediaJob =
  (services: Services): JobHandler<"media.sweep"> =>
  async () => {
    const uploads = await services.uploads.sweepExpiredUploads();
    const swept = await sweepMedia(services.dataSource.manager);
    services.logger.info({ expiredUploads: uploads, ...swept }, "media sweep done");
  };
