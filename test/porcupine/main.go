package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/anishathalye/porcupine"
)

// Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (checker timeout), 3 usage/input error.
func main() {
	htmlPath := flag.String("html", "", "write porcupine's HTML visualization here when the history is not linearizable")
	always := flag.Bool("html-always", false, "write the visualization even when the history is linearizable")
	timeout := flag.Duration("timeout", 60*time.Second, "give up (exit 2) after this long; 0 = no limit")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: porcupine [-html out.html] [-timeout 60s] history.json|-\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(3)
	}
	var data []byte
	var err error
	if flag.Arg(0) == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(flag.Arg(0))
	}
	if err != nil {
		fmt.Printf("ERROR: %v\n", err)
		os.Exit(3)
	}
	ops, err := parseHistory(data)
	if err != nil {
		fmt.Printf("ERROR: %v\n", err)
		os.Exit(3)
	}
	verbose := *htmlPath != ""
	v := Check(ops, *timeout, verbose)
	msg := v.String()
	if verbose && (v.Result == porcupine.Illegal || *always) {
		if err := porcupine.VisualizePath(KvModel, v.Info, *htmlPath); err != nil {
			msg += fmt.Sprintf("; visualization failed: %v", err)
		} else {
			msg += "; visualization: " + *htmlPath
		}
	}
	fmt.Println(msg)
	switch v.Result {
	case porcupine.Ok:
		os.Exit(0)
	case porcupine.Illegal:
		os.Exit(1)
	default:
		os.Exit(2)
	}
}
