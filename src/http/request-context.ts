import { AsyncLocalStorage } from "node:async_hooks";

/** The current request's id, readable from code that has no request object (e.g. error formatting). */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}
