// Command kvs-cri is a minimal CRI client for the local test cluster (no crictl here):
//
//	kvs-cri -endpoint unix:///path/containerd.sock pods        list pod sandboxes
//	kvs-cri -endpoint unix:///path/containerd.sock stop-all    stop and remove every pod
//	                                                           sandbox (CNI DEL frees IPs,
//	                                                           network namespaces, hostports)
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func main() {
	endpoint := flag.String("endpoint", "", "CRI endpoint, unix:///path/to/socket")
	timeout := flag.Duration("timeout", 60*time.Second, "overall timeout")
	flag.Parse()
	if *endpoint == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: kvs-cri -endpoint unix:///sock {pods|stop-all}")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	addr := "unix://" + strings.TrimPrefix(*endpoint, "unix://")
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	resp, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		log.Fatalf("list pod sandboxes: %v", err)
	}
	switch flag.Arg(0) {
	case "pods":
		for _, p := range resp.Items {
			fmt.Printf("%s\t%s/%s\t%s\n", p.Id[:13], p.Metadata.Namespace, p.Metadata.Name, p.State)
		}
	case "stop-all":
		failed := 0
		for _, p := range resp.Items {
			name := p.Metadata.Namespace + "/" + p.Metadata.Name
			if _, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.Id}); err != nil {
				log.Printf("stop %s: %v", name, err)
				failed++
				continue
			}
			if _, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.Id}); err != nil {
				log.Printf("remove %s: %v", name, err)
				failed++
				continue
			}
			log.Printf("stopped and removed pod %s", name)
		}
		if failed > 0 {
			os.Exit(1)
		}
	default:
		log.Fatalf("unknown command %q", flag.Arg(0))
	}
}
