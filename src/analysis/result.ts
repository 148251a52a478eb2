/**
 * What one instant query answered: one number, or nothing. `empty` covers an empty vector and NaN (0/0, as an error
 * rate with no traffic gives), both of which mean "no data" and are judged inconclusive. Infinity stays a value: a
 * histogram_quantile in the +Inf bucket really is slower than any threshold.
 */
export type QueryResult = { kind: 'value'; value: number } | { kind: 'empty' };
