import type { Services } from "../container.js";
import type { ApiKeyScope } from "../domain/vocabulary.js";
import type { Logger } from "../logger.js";
import { type Principal, requireScope } from "../services/api-key.service.js";
import type { Loaders } from "./loaders.js";

/** What every resolver gets: the caller, per-request loaders, the services, a request logger. */
export interface GraphQLContext {
  requestId: string;
  principal: Principal;
  services: Services;
  loaders: Loaders;
  logger: Logger;
}

export function tenantOf(context: GraphQLContext, scope: ApiKeyScope = "read"): string {
  requireScope(context.principal, scope);
  return context.principal.tenantId;
}
