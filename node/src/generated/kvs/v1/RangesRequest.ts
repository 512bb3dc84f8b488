// Original file: proto/admin.proto


export interface RangesRequest {
}

export interface RangesRequest__Output {
}
