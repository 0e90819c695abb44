import { createRequire } from "node:module";

/** One sample of a family as parse-prometheus-text-format gives it (histograms: count, sum, buckets). */
export interface PrometheusSample {
  labels?: Record<string, string>;
  value?: string;
  count?: string;
  sum?: string;
  buckets?: Record<string, string>;
}

export interface PrometheusFamily {
  name: string;
  help: string;
  type: string;
  metrics: PrometheusSample[];
}

// The package ships no types; this is the shape its README documents (prom2json's). It folds a
// histogram's labelled series into one sample: read those from prom-client's registry instead.
const parse = createRequire(import.meta.url)("parse-prometheus-text-format") as (
  text: string,
) => PrometheusFamily[];

/** Parses a `/metrics` body into families by name, with a lookup of one sample by its labels. */
export function parsePrometheus(text: string) {
  const families = new Map(parse(text).map((family) => [family.name, family]));
  return {
    families,
    /** The sample of `name` whose labels include `labels` (undefined when there is none). */
    sample(name: string, labels: Record<string, string> = {}): PrometheusSample | undefined {
      return families
        .get(name)
        ?.metrics.find((metric) =>
          Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value),
        );
    },
  };
}
