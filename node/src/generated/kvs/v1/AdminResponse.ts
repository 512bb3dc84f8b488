// Original file: proto/admin.proto

import type { AdminStatusResponse as _kvs_v1_AdminStatusResponse, AdminStatusResponse__Output as _kvs_v1_AdminStatusResponse__Output } from '../../kvs/v1/AdminStatusResponse.js';

export interface AdminResponse {
  'ok'?: (boolean);
  'message'?: (string);
  'status'?: (_kvs_v1_AdminStatusResponse | null);
}

export interface AdminResponse__Output {
  'ok': (boolean);
  'message': (string);
  'status': (_kvs_v1_AdminStatusResponse__Output | null);
}
