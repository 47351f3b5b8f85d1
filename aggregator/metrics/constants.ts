/** Metric names start with this (Prometheus convention: one prefix per exporter). */
export const METRIC_PREFIX = 'heartbeat_'

/** Ingest time buckets, seconds: a frame is decoded, validated and folded in well under a millisecond. */
export const INGEST_DURATION_BUCKETS_SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]

/** Network label values (genesis CIDs, chain ids) may be longer than a nickname. */
export const MAX_NETWORK_LABEL_LENGTH = 128
