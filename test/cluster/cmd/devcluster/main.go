// Command devcluster runs herald's test Kubernetes API server for people and for `make run`,
// and talks to any cluster for demonstrations:
//
//	devcluster up --dir DIR              start kube-apiserver + etcd; write DIR/kubeconfig; run until Ctrl-C
//	devcluster ping [--kubeconfig PATH]  exit 0 if the cluster answers /readyz within --timeout
//	devcluster events [--kubeconfig PATH] [--count N] [--namespace NS]
//	                                     create N sample events and print them
//
// Without --kubeconfig, ping and events use $KUBECONFIG or ~/.kube/config, as kubectl does.
package main

import (
	"fmt"
	"os"
)

const usage = `usage:
  devcluster up [--dir DIR]
      start kube-apiserver and etcd on 127.0.0.1, write DIR/kubeconfig, run until Ctrl-C
  devcluster ping [--kubeconfig PATH] [--timeout 3s]
      exit 0 if the cluster answers /readyz, 1 otherwise
  devcluster events [--kubeconfig PATH] [--count N] [--namespace NS]
      create N sample events (mostly Warning) and print what was created
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "up":
		err = up(args)
	case "ping":
		err = ping(args)
	case "events":
		err = events(args)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "devcluster: unknown command %q\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "devcluster %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
