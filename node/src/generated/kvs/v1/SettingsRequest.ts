// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Cluster-wide settings that change what apply does (replicated through the log, identical on every
 * replica). A field left 0 is unchanged; all fields 0 only reads them.
 */
export interface SettingsRequest {
  'sessionTtlMs'?: (number | string | Long);
  'maxResultsPerSession'?: (number | string | Long);
}

/**
 * Cluster-wide settings that change what apply does (replicated through the log, identical on every
 * replica). A field left 0 is unchanged; all fields 0 only reads them.
 */
export interface SettingsRequest__Output {
  'sessionTtlMs': (number);
  'maxResultsPerSession': (number);
}
