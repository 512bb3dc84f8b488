// Original file: proto/kv.proto


export interface RollbackResponse {
}

export interface RollbackResponse__Output {
}
