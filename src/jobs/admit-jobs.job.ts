import type { Services } from "../container.js";
import type { JobHandler } from "./worker.js";

/** Once a minute: admits waiting jobs whose slot-freed wake-up nobody heard (a listener was down). */
export const admitJobsJob =
  (services: Services): JobHandler<"video.admit"> =>
  async () => {
    const admitted = await services.admission.sweep();
    if (admitted > 0) services.logger.info({ admitted }, "admission sweep admitted waiting jobs");
  };
