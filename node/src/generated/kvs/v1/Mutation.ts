// Original file: proto/kv.proto


// Original file: proto/kv.proto

export const _kvs_v1_Mutation_Op = {
  PUT: 'PUT',
  DELETE: 'DELETE',
} as const;

export type _kvs_v1_Mutation_Op =
  | 'PUT'
  | 0
  | 'DELETE'
  | 1

export type _kvs_v1_Mutation_Op__Output = typeof _kvs_v1_Mutation_Op[keyof typeof _kvs_v1_Mutation_Op]

export interface Mutation {
  'op'?: (_kvs_v1_Mutation_Op);
  'key'?: (Buffer | Uint8Array | string);
  'value'?: (Buffer | Uint8Array | string);
}

export interface Mutation__Output {
  'op': (_kvs_v1_Mutation_Op__Output);
  'key': (Buffer);
  'value': (Buffer);
}
