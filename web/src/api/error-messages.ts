/**
 * Turns what the API answered into words a listing agent understands. The codes are the
 * service's `extensions.code` / REST `error.code` values (README: errors); anything unknown
 * still says what happened and, when the server gave one, the request id to quote.
 */

export interface ApiProblem {
  code?: string;
  message?: string;
  requestId?: string;
  retryAfterSeconds?: number;
  httpStatus?: number;
}

const BY_CODE: Record<string, (problem: ApiProblem) => string> = {
  UNAUTHENTICATED: () =>
    "That API key was not accepted. Check the key (or ask for a new one) and sign in again.",
  FORBIDDEN: () => "This API key is not allowed to do that (it lacks the write or admin scope).",
  RATE_LIMITED: (problem) =>
    `Too many requests for this API key. Try again in ${Math.max(1, Math.ceil(problem.retryAfterSeconds ?? 1))} s.`,
  NOT_FOUND: () => "Not found: it may have been deleted, or it belongs to another account.",
  CONFLICT: (problem) => problem.message ?? "That conflicts with the current state; reload and try again.",
  BAD_USER_INPUT: (problem) => `Please check the input: ${problem.message ?? "it was not accepted"}.`,
  PAYLOAD_TOO_LARGE: (problem) => `The file is too large. ${problem.message ?? ""}`.trim(),
  UNSUPPORTED_MEDIA_TYPE: (problem) =>
    `That file is not a photo propvid can use (JPEG, PNG, WebP, AVIF or HEIC). ${problem.message ?? ""}`.trim(),
  MEDIA_REJECTED: (problem) => `The photo was rejected: ${problem.message ?? "it could not be used"}.`,
  URL_NOT_ALLOWED: (problem) => `That address cannot be imported from: ${problem.message ?? "not allowed"}.`,
  PROVIDER_FAILED: (problem) => `The AI provider failed: ${problem.message ?? "no reason given"}.`,
  GRAPHQL_VALIDATION_FAILED: (problem) => `The request was refused: ${problem.message ?? "invalid"}.`,
  INTERNAL_SERVER_ERROR: (problem) =>
    `Something went wrong on the server${problem.requestId ? ` (request id ${problem.requestId})` : ""}. Please try again.`,
};

/** The sentence to show for one problem. */
export function describeProblem(problem: ApiProblem): string {
  const byCode = problem.code ? BY_CODE[problem.code] : undefined;
  if (byCode) return byCode(problem);
  if (problem.httpStatus === 413) return BY_CODE.PAYLOAD_TOO_LARGE!(problem);
  if (problem.httpStatus === 415) return BY_CODE.UNSUPPORTED_MEDIA_TYPE!(problem);
  if (problem.httpStatus === 0) return "The server could not be reached. Check the connection and try again.";
  if (problem.message) return problem.message;
  return problem.httpStatus ? `The server answered ${problem.httpStatus}.` : "Something went wrong.";
}

interface GraphQLErrorLike {
  message?: string;
  extensions?: Record<string, unknown>;
}

/** The problem behind a GraphQL error (urql's CombinedError, a graphql-ws error list, or a thrown value). */
export function problemOf(error: unknown): ApiProblem {
  if (!error) return {};
  const list = Array.isArray(error)
    ? (error as GraphQLErrorLike[])
    : ((error as { graphQLErrors?: GraphQLErrorLike[] }).graphQLErrors ?? []);
  const first = list[0];
  const response = (error as { response?: { status?: number } }).response;
  if (first) {
    const extensions = first.extensions ?? {};
    return {
      code: typeof extensions.code === "string" ? extensions.code : undefined,
      message: first.message,
      requestId: typeof extensions.requestId === "string" ? extensions.requestId : undefined,
      retryAfterSeconds:
        typeof extensions.retryAfterSeconds === "number" ? extensions.retryAfterSeconds : undefined,
      httpStatus: response?.status,
    };
  }
  const network = (error as { networkError?: Error }).networkError;
  if (network) return { httpStatus: response?.status ?? 0, message: network.message };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** The sentence for any error value. */
export function describeError(error: unknown): string {
  return describeProblem(problemOf(error));
}
