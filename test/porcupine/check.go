package main

import (
	"fmt"
	"math"
	"time"

	"github.com/anishathalye/porcupine"
)

type porcupineOperation = porcupine.Operation

// KvModel is the per-key register model with get/put/delete/cas.
var KvModel = porcupine.Model{
	Partition:         partitionByKey,
	Init:              func() interface{} { return state{} },
	Step:              step,
	Equal:             func(a, b interface{}) bool { return a.(state) == b.(state) },
	DescribeOperation: describeOperation,
	DescribeState:     describeState,
}

// Verdict of one check.
type Verdict struct {
	Result   porcupine.CheckResult
	Ops      int
	Pending  int
	Keys     int
	Duration time.Duration
	Info     porcupine.LinearizationInfo
}

// toPorcupine converts JSON operations. Unknown-outcome operations (no return, or output.unknown)
// return at +infinity: porcupine may linearize them anywhere after their call, or effectively never.
// Reads with unknown outcome carry no information and are dropped.
func toPorcupine(ops []Op) ([]porcupine.Operation, int) {
	out := make([]porcupine.Operation, 0, len(ops))
	pending := 0
	clientIDs := map[int64]int{}
	for _, op := range ops {
		unknown := op.Output.Unknown || op.Return == nil
		if unknown && op.Input.Op == "get" {
			continue
		}
		ret := int64(math.MaxInt64)
		output := op.Output
		if unknown {
			pending++
			output.Unknown = true
		} else {
			ret = *op.Return
		}
		// porcupine wants dense zero-indexed client ids for visualization.
		cid, ok := clientIDs[op.ClientID]
		if !ok {
			cid = len(clientIDs)
			clientIDs[op.ClientID] = cid
		}
		out = append(out, porcupine.Operation{ClientId: cid, Input: op.Input, Call: op.Call, Output: output, Return: ret})
	}
	return out, pending
}

// Check checks a parsed history; verbose computes visualization data.
func Check(ops []Op, timeout time.Duration, verbose bool) Verdict {
	history, pending := toPorcupine(ops)
	keys := map[string]struct{}{}
	for _, op := range history {
		keys[op.Input.(Input).Key] = struct{}{}
	}
	start := time.Now()
	var v Verdict
	if verbose {
		v.Result, v.Info = porcupine.CheckOperationsVerbose(KvModel, history, timeout)
	} else {
		v.Result = porcupine.CheckOperationsTimeout(KvModel, history, timeout)
	}
	v.Duration = time.Since(start)
	v.Ops = len(history)
	v.Pending = pending
	v.Keys = len(keys)
	return v
}

func (v Verdict) String() string {
	name := map[porcupine.CheckResult]string{porcupine.Ok: "LINEARIZABLE", porcupine.Illegal: "NOT LINEARIZABLE", porcupine.Unknown: "UNKNOWN (timeout)"}[v.Result]
	return fmt.Sprintf("%s: %d operations (%d with unknown outcome), %d keys, checked in %s", name, v.Ops, v.Pending, v.Keys, v.Duration.Round(time.Millisecond))
}
