// Package main is a linearizability checker for key-value histories recorded by the kvs tests
// (test/helpers/history-recorder.ts). It wraps github.com/anishathalye/porcupine with a per-key
// register model supporting get, put, delete, clear (a delete that does not report whether the key
// existed: one key of a DeleteRange) and compare-and-set.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Input is the operation a client invoked.
type Input struct {
	Op    string `json:"op"` // get | put | cas | delete | clear
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	// For cas: the expected current value; ExpectAbsent means "only if the key does not exist".
	Expected     *string `json:"expected,omitempty"`
	ExpectAbsent bool    `json:"expectAbsent,omitempty"`
}

// Output is what the client observed. Unknown marks an operation whose outcome was never learned
// (timeout, connection reset): it may or may not have taken effect; it is treated as pending forever.
type Output struct {
	Value   string `json:"value,omitempty"`
	Found   bool   `json:"found,omitempty"`
	Ok      bool   `json:"ok,omitempty"`
	Unknown bool   `json:"unknown,omitempty"`
}

// Op is one element of a JSON history. Return is null/absent for operations that never returned.
type Op struct {
	ClientID int64  `json:"clientId"`
	Input    Input  `json:"input"`
	Output   Output `json:"output"`
	Call     int64  `json:"call"`
	Return   *int64 `json:"return"`
}

// state of one key (the model is partitioned by key).
type state struct {
	found bool
	value string
}

func step(s0 interface{}, in0 interface{}, out0 interface{}) (bool, interface{}) {
	s := s0.(state)
	in := in0.(Input)
	out := out0.(Output)
	switch in.Op {
	case "get":
		if out.Unknown {
			return true, s
		}
		if out.Found != s.found {
			return false, s
		}
		return !s.found || out.Value == s.value, s
	case "put":
		return true, state{found: true, value: in.Value}
	case "delete":
		// Output.Found (when known) reports whether the key existed.
		if !out.Unknown && out.Found != s.found {
			return false, s
		}
		return true, state{}
	case "clear":
		return true, state{}
	case "cas":
		var holds bool
		if in.ExpectAbsent {
			holds = !s.found
		} else if in.Expected != nil {
			holds = s.found && s.value == *in.Expected
		} else {
			holds = true
		}
		next := s
		if holds {
			next = state{found: true, value: in.Value}
		}
		if out.Unknown {
			return true, next
		}
		return out.Ok == holds, next
	}
	return false, s
}

func describeOperation(in0 interface{}, out0 interface{}) string {
	in := in0.(Input)
	out := out0.(Output)
	res := "?"
	if !out.Unknown {
		switch in.Op {
		case "get":
			if out.Found {
				res = strconv.Quote(out.Value)
			} else {
				res = "<absent>"
			}
		case "put":
			res = "ok"
		case "delete":
			res = fmt.Sprintf("existed=%v", out.Found)
		case "clear":
			res = "ok"
		case "cas":
			res = fmt.Sprintf("ok=%v", out.Ok)
		}
	}
	switch in.Op {
	case "get":
		return fmt.Sprintf("get(%q) -> %s", in.Key, res)
	case "put":
		return fmt.Sprintf("put(%q, %q) -> %s", in.Key, in.Value, res)
	case "delete":
		return fmt.Sprintf("delete(%q) -> %s", in.Key, res)
	case "clear":
		return fmt.Sprintf("clear(%q) -> %s", in.Key, res)
	case "cas":
		exp := "<any>"
		if in.ExpectAbsent {
			exp = "<absent>"
		} else if in.Expected != nil {
			exp = strconv.Quote(*in.Expected)
		}
		return fmt.Sprintf("cas(%q, %s -> %q) -> %s", in.Key, exp, in.Value, res)
	}
	return fmt.Sprintf("%s(%q)", in.Op, in.Key)
}

func describeState(s0 interface{}) string {
	s := s0.(state)
	if !s.found {
		return "<absent>"
	}
	return strconv.Quote(s.value)
}

func partitionByKey(history []porcupineOperation) [][]porcupineOperation {
	byKey := map[string][]porcupineOperation{}
	for _, op := range history {
		k := op.Input.(Input).Key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]porcupineOperation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

// validate checks one JSON operation and returns a descriptive error for malformed input.
func validate(i int, op Op) error {
	switch op.Input.Op {
	case "get", "put", "cas", "delete", "clear":
	default:
		return fmt.Errorf("operation %d: unknown op %q (want get|put|cas|delete|clear)", i, op.Input.Op)
	}
	if op.ClientID < 0 || op.ClientID > math.MaxInt32 {
		return fmt.Errorf("operation %d: clientId %d out of range", i, op.ClientID)
	}
	if op.Return != nil && *op.Return < op.Call {
		return fmt.Errorf("operation %d: return %d before call %d", i, *op.Return, op.Call)
	}
	return nil
}

func parseHistory(data []byte) ([]Op, error) {
	var ops []Op
	if err := json.Unmarshal(data, &ops); err != nil {
		// Also accept {"operations": [...]}.
		var wrapped struct {
			Operations []Op `json:"operations"`
		}
		if err2 := json.Unmarshal(data, &wrapped); err2 != nil || wrapped.Operations == nil {
			return nil, fmt.Errorf("history is not a JSON list of operations: %v", err)
		}
		ops = wrapped.Operations
	}
	for i, op := range ops {
		if err := validate(i, op); err != nil {
			return nil, err
		}
	}
	return ops, nil
}
