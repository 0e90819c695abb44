/** One benchmark: a name for `npm run bench -- NAME`, and a run that returns printable lines. */
export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<string[]>;
}

export const BENCHMARKS: Benchmark[] = [];
