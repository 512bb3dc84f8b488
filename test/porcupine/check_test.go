package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func ret(v int64) *int64   { return &v }
func str(s string) *string { return &s }

func mustCheck(t *testing.T, ops []Op, want porcupine.CheckResult) {
	t.Helper()
	if v := Check(ops, 10*time.Second, false); v.Result != want {
		t.Fatalf("got %v, want %v", v, want)
	}
}

func TestTestdata(t *testing.T) {
	for file, want := range map[string]porcupine.CheckResult{"linearizable.json": porcupine.Ok, "not-linearizable.json": porcupine.Illegal} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		ops, err := parseHistory(data)
		if err != nil {
			t.Fatal(err)
		}
		mustCheck(t, ops, want)
	}
}

func TestStaleReadAfterWriteIsIllegal(t *testing.T) {
	mustCheck(t, []Op{
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Ok: true}, Call: 0, Return: ret(1)},
		{ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: false}, Call: 2, Return: ret(3)},
	}, porcupine.Illegal)
}

func TestConcurrentReadMaySeeEitherValue(t *testing.T) {
	for _, seen := range []Output{{Found: false}, {Found: true, Value: "a"}} {
		mustCheck(t, []Op{
			{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Ok: true}, Call: 0, Return: ret(10)},
			{ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: seen, Call: 2, Return: ret(3)},
		}, porcupine.Ok)
	}
}

func TestCasSemantics(t *testing.T) {
	// A CAS that reports success although the expected value was not there is illegal.
	mustCheck(t, []Op{
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Ok: true}, Call: 0, Return: ret(1)},
		{ClientID: 1, Input: Input{Op: "cas", Key: "k", Expected: str("b"), Value: "c"}, Output: Output{Ok: true}, Call: 2, Return: ret(3)},
	}, porcupine.Illegal)
	// Two CASes from the same expected value cannot both succeed.
	mustCheck(t, []Op{
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Ok: true}, Call: 0, Return: ret(1)},
		{ClientID: 1, Input: Input{Op: "cas", Key: "k", Expected: str("a"), Value: "b"}, Output: Output{Ok: true}, Call: 2, Return: ret(10)},
		{ClientID: 2, Input: Input{Op: "cas", Key: "k", Expected: str("a"), Value: "c"}, Output: Output{Ok: true}, Call: 2, Return: ret(10)},
	}, porcupine.Illegal)
	// expectAbsent fails on an existing key.
	mustCheck(t, []Op{
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Ok: true}, Call: 0, Return: ret(1)},
		{ClientID: 1, Input: Input{Op: "cas", Key: "k", ExpectAbsent: true, Value: "b"}, Output: Output{Ok: false}, Call: 2, Return: ret(3)},
		{ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: true, Value: "a"}, Call: 4, Return: ret(5)},
	}, porcupine.Ok)
}

func TestUnknownOutcomeMayOrMayNotApply(t *testing.T) {
	lost := Op{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Unknown: true}, Call: 0}
	// Seen later: fine.
	mustCheck(t, []Op{lost, {ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: true, Value: "a"}, Call: 100, Return: ret(101)}}, porcupine.Ok)
	// Never seen: fine.
	mustCheck(t, []Op{lost, {ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: false}, Call: 100, Return: ret(101)}}, porcupine.Ok)
	// But it cannot take effect before it was called.
	mustCheck(t, []Op{
		{ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: true, Value: "a"}, Call: 0, Return: ret(1)},
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Unknown: true}, Call: 5},
	}, porcupine.Illegal)
	// Seen, then unseen again without another write: illegal.
	mustCheck(t, []Op{lost,
		{ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: true, Value: "a"}, Call: 100, Return: ret(101)},
		{ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: false}, Call: 102, Return: ret(103)},
	}, porcupine.Illegal)
}

func TestParseRejectsBadInput(t *testing.T) {
	for _, bad := range []string{`{`, `[{"input":{"op":"incr","key":"k"},"call":0,"return":1}]`, `[{"input":{"op":"get","key":"k"},"call":5,"return":1}]`} {
		if _, err := parseHistory([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestVisualizationOfFailure(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join("testdata", "not-linearizable.json"))
	ops, _ := parseHistory(data)
	v := Check(ops, 10*time.Second, true)
	out := filepath.Join(t.TempDir(), "viz.html")
	if err := porcupine.VisualizePath(KvModel, v.Info, out); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 1000 {
		t.Fatalf("visualization missing or tiny: %v", err)
	}
}

func TestClearTakesEffectWithinItsCall(t *testing.T) {
	// A clear (one key of a DeleteRange) applied once: a put after it returned stays visible.
	mustCheck(t, []Op{
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Ok: true}, Call: 0, Return: ret(1)},
		{ClientID: 1, Input: Input{Op: "clear", Key: "k"}, Output: Output{Ok: true}, Call: 2, Return: ret(3)},
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "b"}, Output: Output{Ok: true}, Call: 4, Return: ret(5)},
		{ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: true, Value: "b"}, Call: 6, Return: ret(7)},
	}, porcupine.Ok)
	// Applied again after it returned (a retry that deleted a later write): the later read is illegal.
	mustCheck(t, []Op{
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "a"}, Output: Output{Ok: true}, Call: 0, Return: ret(1)},
		{ClientID: 1, Input: Input{Op: "clear", Key: "k"}, Output: Output{Ok: true}, Call: 2, Return: ret(3)},
		{ClientID: 0, Input: Input{Op: "put", Key: "k", Value: "b"}, Output: Output{Ok: true}, Call: 4, Return: ret(5)},
		{ClientID: 1, Input: Input{Op: "get", Key: "k"}, Output: Output{Found: false}, Call: 6, Return: ret(7)},
	}, porcupine.Illegal)
}
