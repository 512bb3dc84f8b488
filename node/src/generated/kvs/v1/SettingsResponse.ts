// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface SettingsResponse {
  'sessionTtlMs'?: (number | string | Long);
  'maxResultsPerSession'?: (number | string | Long);
  /**
   * false: the group never stored settings (the defaults are in force).
   */
  'stored'?: (boolean);
}

export interface SettingsResponse__Output {
  'sessionTtlMs': (number);
  'maxResultsPerSession': (number);
  /**
   * false: the group never stored settings (the defaults are in force).
   */
  'stored': (boolean);
}
